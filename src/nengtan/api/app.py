"""The FastAPI application: ``create_app(engine)``.

Routers are thin: they parse parameters, call the services inside the request's transaction
(:mod:`nengtan.api.deps`) and shape the answer.  Errors of every origin answer in one shape
(:mod:`nengtan.api.errors`).  Nothing is loaded from the internet: the OpenAPI page's assets
are served locally (:mod:`nengtan.api.docs`).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nengtan import __version__
from nengtan.api import docs, errors, landing
from nengtan.api.routers import ROUTERS
from nengtan.config import Settings, get_settings
from nengtan.services import query
from nengtan.store import db

DESCRIPTION = """\
能碳 nengtan —— 工业企业和园区数字能碳管理中心 REST 接口。
Digital energy-carbon management center for industrial enterprises and parks.

* Objects reference each other by **code** (a meter's `node` is the node's code); answers
  carry both ids and codes.  Times are ISO 8601; a time without an offset is read in the
  site's timezone (default Asia/Shanghai).  Every quantity names its unit; every computed
  series carries `lineage`.
* Invalid input answers **422** with every problem: `{"message", "detail": [{"row", "field",
  "rule", "value", "message", "message_zh"}]}`, where `row` is the index in a JSON list
  (0-based) or the row of an uploaded file (header = 1).  Nothing is partially applied.
  Unknown ids answer **404**.  `Accept-Language: en` switches `message` to English
  (zh-CN by default).
"""


def create_app(engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    """The API on ``engine`` (default: the configured database, ``NENGTAN_DATABASE_URL``)."""
    settings = settings or get_settings()
    app = FastAPI(title="能碳 nengtan", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.engine = engine if engine is not None else db.make_engine(
        settings.resolved_database_url())
    app.state.settings = settings
    errors.install(app)
    docs.install(app)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> HTMLResponse:
        with Session(app.state.engine) as session:
            status = query.status(session.connection())
        return HTMLResponse(landing.render(status))

    return app
