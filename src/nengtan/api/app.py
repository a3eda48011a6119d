"""The FastAPI application: ``create_app(engine)``.

Routers are thin: they parse parameters, call the services inside the request's transaction
(:mod:`nengtan.api.deps`) and shape the answer.  Errors of every origin answer in one shape
(:mod:`nengtan.api.errors`).  Nothing is loaded from the internet: the OpenAPI page's assets
are served locally (:mod:`nengtan.api.docs`).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from nengtan import __version__, web
from nengtan.api import auth, docs, errors
from nengtan.api.routers import ROUTERS
from nengtan.config import Settings, get_settings
from nengtan.services.kept_answers import KeptAnswers
from nengtan.store import db

DESCRIPTION = """\
能碳 nengtan —— 工业企业和园区数字能碳管理中心 REST 接口。
Digital energy-carbon management center for industrial enterprises and parks.

* **Authentication / 身份鉴别**: `POST /api/auth/token` with form fields `username`, `password`
  (and `totp` for administrators) answers `{"access_token", "token_type": "bearer"}`; send
  `Authorization: Bearer <token>` on every other call (401 otherwise).  A role without the
  permission gets **403**; objects of other tenants answer **404** as if they did not exist.

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
                  docs_url=None, redoc_url=None, dependencies=[Depends(auth.authorize)])
    app.state.engine = engine if engine is not None else db.make_engine(
        settings.resolved_database_url())
    app.state.settings = settings
    # the dashboard's and wall display's answers (forgotten at every API write: api/auth.py)
    app.state.kept_answers = KeptAnswers(settings.dashboard_max_age_s)
    errors.install(app)
    auth.install(app)
    docs.install(app)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app)
    return app
