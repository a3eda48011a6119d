"""HTTP/JSON pull: records from another system's REST API every ``interval_s`` (httpx2).

Each pull sends ``GET url?<params>&<cursor_param>=<cursor>`` (or a POST with the cursor in the
JSON body), takes the record list at the JSON path ``records`` and stores the records as
readings or production records (see :mod:`nengtan.collect.cursors` for cursors, record
mapping and the order of commits).  Two ways through a long answer:

* **next-page token** (``page_token: {path: next, param: page_token}``): the answer names the
  next page; the pull follows it until the token is missing or null;
* **cursor pages** (``page_size: 500``): an answer with ``page_size`` records is followed at
  once by a pull after the new cursor.

The API must answer in JSON (RFC 8259) with a 2xx status.  Any other status, a timeout or a
network error makes ``run()`` raise: the collector records it and tries again with back-off,
from the same cursor.  An answer that is not JSON or has no record list at ``records`` is kept
as a dead letter and retried at the next interval.
"""

from __future__ import annotations

import os
import ssl
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx2
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nengtan.collect.cursors import Page, PullAdapter, PullSettings
from nengtan.collect.points import Letter

_MISSING = object()


class PageToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="JSON path of the next-page token in an answer.")
    param: str = Field(min_length=1, description="Parameter that sends it back.")


class HttpPullSettings(PullSettings):
    url: str = Field(description="http(s)://host[:port]/path")
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    body: dict[str, Any] | None = Field(None, description="POST: the JSON body (cursor and "
                                        "page token are added to it).")
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token: str | None = None
    bearer_token_env: str | None = Field(None, description="Environment variable with the "
                                         "bearer token (keeps it out of the file).")
    username: str | None = Field(None, description="HTTP Basic authentication.")
    password: str | None = None
    cursor_param: str | None = Field(None, description="Parameter carrying the cursor.")
    records: str = Field("", description="JSON path of the record list: keys and list "
                         "indexes joined by '.', e.g. data.items ('' = the whole answer).")
    page_token: PageToken | None = None
    timeout_s: float = Field(10.0, gt=0)
    verify_tls: bool = True
    ca_file: str | None = None
    proxy: str | None = Field(None, description="Proxy URL (environment proxies are ignored).")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must look like http(s)://host[:port]/path")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> HttpPullSettings:
        if self.cursor is not None and not self.cursor_param:
            raise ValueError("cursor needs cursor_param (the parameter that sends it)")
        if self.cursor_param and self.cursor is None:
            raise ValueError("cursor_param needs cursor (which record field is the cursor)")
        if self.body is not None and self.method != "POST":
            raise ValueError("body is only sent with method POST")
        if self.bearer_token and self.bearer_token_env:
            raise ValueError("give bearer_token or bearer_token_env, not both")
        if self.password is not None and not self.username:
            raise ValueError("password without username")
        return self


def json_path(doc: Any, path: str) -> Any:
    """The value at ``a.b.0.c`` (keys of objects, indexes of lists); _MISSING if absent."""
    for part in path.split(".") if path else []:
        if isinstance(doc, dict):
            doc = doc.get(part, _MISSING)
        elif isinstance(doc, list) and part.lstrip("-").isdigit() and -len(doc) <= int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
        if doc is _MISSING:
            return doc
    return doc


class HttpPullAdapter(PullAdapter):
    kind = "http"
    Settings = HttpPullSettings

    def __init__(self, settings, ctx):
        super().__init__(settings, ctx)
        self.client: httpx2.AsyncClient | None = None
        parts = urlsplit(settings.url)
        # Where letters say they came from: the URL without credentials or query.
        self.where = urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port
                                                                else ""), parts.path, "", ""))

    async def open(self) -> None:
        s: HttpPullSettings = self.settings  # type: ignore[assignment]
        headers = {"Accept": "application/json", **s.headers}
        token = s.bearer_token
        if s.bearer_token_env:
            token = os.environ.get(s.bearer_token_env)
            if not token:
                raise ValueError(f"environment variable {s.bearer_token_env} is not set")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        verify: ssl.SSLContext | bool = s.verify_tls
        if s.ca_file:
            verify = ssl.create_default_context(cafile=s.ca_file)
        self.client = httpx2.AsyncClient(
            headers=headers, timeout=s.timeout_s, verify=verify, proxy=s.proxy, trust_env=False,
            auth=(s.username, s.password or "") if s.username else None)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def fetch(self, cursor: Any, token: str | None) -> Page | None:
        s: HttpPullSettings = self.settings  # type: ignore[assignment]
        extra: dict[str, Any] = {}
        if s.cursor is not None:
            extra[s.cursor_param] = s.cursor.dump(cursor)
        if token and s.page_token is not None:
            extra[s.page_token.param] = token
        params: dict[str, Any] = {k: _param(v) for k, v in s.params.items()}
        body = None
        if s.method == "POST":
            body = {**(s.body or {}), **extra}
        else:
            params.update(extra)
        try:
            resp = await self.client.request(s.method, s.url, params=params, json=body)
        except httpx2.HTTPError as exc:
            raise ConnectionError(f"{self.where}: {exc.__class__.__name__}: {exc}") from exc
        if not resp.is_success:
            raise ConnectionError(f"{self.where}: HTTP {resp.status_code} "
                                  f"{resp.reason_phrase}: {resp.text[:200]}")
        try:
            doc = orjson.loads(resp.content)
        except orjson.JSONDecodeError as exc:
            await self.ctx.dead_letter(Letter("dead.not_json", resp.content, self.where,
                                              s.device or self.ctx.name,
                                              {"error": str(exc)[:200], "request": extra}))
            return None
        records = json_path(doc, s.records)
        if not isinstance(records, list):
            await self.ctx.dead_letter(Letter("dead.bad_shape", resp.content, self.where,
                                              s.device or self.ctx.name,
                                              {"field": s.records or "(answer)", "request": extra}))
            return None
        next_token = None
        if s.page_token is not None:
            found = json_path(doc, s.page_token.path)
            if found is not _MISSING and found is not None and found != "" and records:
                next_token = str(found)
        return Page(records, self.where, next_token)


def _param(v: Any) -> Any:
    return ("true" if v else "false") if isinstance(v, bool) else v
