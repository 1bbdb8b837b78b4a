"""A small web server on 127.0.0.1 serving pages, feeds, errors and a slow response.

A route added with `etag=`/`last_modified=` answers a matching conditional GET with 304,
as real feed servers do; every request is logged in `requests` (path, status, headers).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _QuietServer(ThreadingHTTPServer):
    """A client closing its kept-alive connection is normal, not an error: socketserver would print
    its traceback to stderr, inside the output of the CLI run a test is reading."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Route:
    status: int
    ctype: str
    body: bytes
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] | None = None  # more response headers (a redirect's Location)


@dataclass
class Request:
    path: str
    status: int
    headers: dict[str, str]  # lower-case names


class Site:
    """Maps paths to `Route`s."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the fetcher's client expects of real servers

            def do_GET(self):  # noqa: N802
                route = site.routes.get(self.path, Route(404, "text/plain", b"not found"))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = site._status(route, headers)
                with site._lock:
                    site.requests.append(Request(self.path, status, headers))
                if route.delay:
                    time.sleep(route.delay)
                body = b"" if status == 304 else route.body
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", route.ctype)
                    self.send_header("Content-Length", str(len(body)))
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    if route.last_modified:
                        self.send_header("Last-Modified", route.last_modified)
                    for name, value in (route.headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = _QuietServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _status(route: Route, headers: dict[str, str]) -> int:
        if route.status != 200:
            return route.status
        if route.etag and headers.get("if-none-match") == route.etag:
            return 304
        if route.last_modified and not route.etag and headers.get("if-modified-since") == route.last_modified:
            return 304
        return 200

    def add(
        self,
        path: str,
        body: bytes | str,
        ctype: str = "text/html; charset=utf-8",
        status: int = 200,
        delay: float = 0.0,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(status, ctype, data, delay, etag, last_modified, headers)
        return self.base + path

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        """A route answering `status` with `Location: to`."""
        return self.add(path, "", ctype="text/plain", status=status, headers={"Location": to})

    def take_requests(self) -> list[Request]:
        """The requests logged since the last call (and forget them)."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def close(self):
        self.server.shutdown()
        self.server.server_close()
