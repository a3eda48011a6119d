"""The web console: server-rendered page shells over the JSON API, served without internet.

:func:`install` adds to an API application

* ``/static/...`` — the console's CSS and JavaScript (``web/static``), and
  ``/static/vendor/plotly.min.js`` straight from the installed ``plotly`` package (not copied
  into the repository; gzip-compressed once per process for slow plant networks);
* ``GET/POST /login``, ``POST /logout`` and one GET route per registered page
  (:mod:`nengtan.web.pages`), ``/`` being the overview dashboard.

Every API request is still checked by :func:`nengtan.api.auth.authorize` (the console's pages
only decide what is linked and served; the data comes from the API).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from nengtan.web.render import STATIC

# located without importing plotly (the Python side of plotly is not needed)
PLOTLY_JS = (Path(importlib.util.find_spec("plotly").origin).parent
             / "package_data" / "plotly.min.js")
VENDOR_MAX_AGE = 7 * 24 * 3600  # s: the file changes only when the plotly package does


@lru_cache(maxsize=1)
def _plotly_bytes() -> tuple[bytes, bytes, str]:
    """(plain, gzip, etag) of plotly.min.js (about 4.8 MB plain, 1.4 MB compressed)."""
    raw = PLOTLY_JS.read_bytes()
    return raw, gzip.compress(raw, 6), '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def plotly_js(request: Request) -> Response:
    raw, packed, etag = _plotly_bytes()
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={VENDOR_MAX_AGE}",
               "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type="text/javascript",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(raw, media_type="text/javascript", headers=headers)


def install(app: FastAPI) -> None:
    """Add the console to ``app`` (see the module docstring)."""
    from nengtan.web import routes  # here: routes needs nengtan.api, which imports this

    app.add_api_route("/static/vendor/plotly.min.js", plotly_js, methods=["GET"],
                      include_in_schema=False)
    app.include_router(routes.router)
    pages = APIRouter(include_in_schema=False)
    routes.add_pages(pages)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="console-static")
