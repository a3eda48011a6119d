"""The collector's health endpoint: ``GET /health`` (JSON) and ``GET /metrics`` (Prometheus).

A deliberately small HTTP/1.1 responder on asyncio streams: the collector must not depend on
the web application to report that it is alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

_STATUS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}


class HealthServer:
    def __init__(self, host: str, port: int, snapshot: Callable[[], dict],
                 metrics: Callable[[], str]):
        self.host, self.port = host, port
        self._snapshot, self._metrics = snapshot, metrics
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            method, path, *_ = request.decode("latin-1").split() + ["", ""]
            path = path.split("?")[0]
            if method != "GET":
                status, body, ctype = 405, b"", "text/plain"
            elif path in ("/health", "/"):
                status, ctype = 200, "application/json"
                body = orjson.dumps(self._snapshot(), option=orjson.OPT_INDENT_2)
            elif path == "/metrics":
                status, body, ctype = 200, self._metrics().encode(), "text/plain; version=0.0.4"
            else:
                status, body, ctype = 404, b"", "text/plain"
            writer.write(f"HTTP/1.1 {status} {_STATUS[status]}\r\nContent-Type: {ctype}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
