"""A scripted HTTP server on a loopback port, for adapters tested without the internet.

`ScriptedServer` answers each request with the next scripted `Reply` for its method and path (the last one
repeats), or with a route function, and records every request it got (method, path, query, headers, body).
Recorded provider responses (tests/fixtures/http/...) are loaded with `recorded(...)`.

    with ScriptedServer() as server:
        server.script("GET", "/v2/account", Reply(429, {"message": "slow down"}, {"Retry-After": "0"}),
                      Reply(200, {"status": "ACTIVE"}))
        client = JsonClient("alpaca", server.url, {})
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "http"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hanging provider)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


Route = Callable[[Request], Reply]


def recorded(provider: str, name: str) -> Any:
    """The JSON of tests/fixtures/http/<provider>/<name>.json."""
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._scripts: dict[tuple[str, str], list[Reply]] = defaultdict(list)
        self._routes: dict[tuple[str, str], Route] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                reply = server._reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer `method path` with `replies` in turn; the last repeats."""
        with self._lock:
            self._scripts[(method.upper(), path)] = list(replies)

    def route(self, method: str, path: str, handler: Route) -> None:
        """Answer `method path` with whatever `handler` returns for each request."""
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def calls(self, method: str, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def _reply(self, request: Request) -> Reply:
        key = (request.method, request.path)
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(key)
            replies = self._scripts.get(key)
            if route is None and replies:
                return replies.pop(0) if len(replies) > 1 else replies[0]
        if route is not None:
            return route(request)
        return Reply(404, {"message": f"no script for {request.method} {request.path}"})

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
