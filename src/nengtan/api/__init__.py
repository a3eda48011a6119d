"""REST API (FastAPI): ``create_app(engine)``; OpenAPI page at ``/docs``."""

from nengtan.api.app import create_app

__all__ = ["create_app"]
