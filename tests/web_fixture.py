"""A small web server on 127.0.0.1 serving pages, feeds, errors and a slow response."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Site:
    """Maps paths to `(status, content_type, body, delay_seconds)`."""

    def __init__(self):
        self.routes: dict[str, tuple[int, str, bytes, float]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                status, ctype, body, delay = site.routes.get(self.path, (404, "text/plain", b"not found", 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(
        self,
        path: str,
        body: bytes | str,
        ctype: str = "text/html; charset=utf-8",
        status: int = 200,
        delay: float = 0.0,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, ctype, data, delay)
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()
