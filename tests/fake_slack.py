"""A small fake Slack Web API on 127.0.0.1, and a request signer for the Events API.

`FakeSlack` records every call (method name, params, whether a bearer token was
sent) and answers `auth.test`, `chat.postMessage` (with a fresh ts), posts to a slash command's
`response_url` (`/respond/NAME`, recorded as method `response_url`),
`chat.update`, `apps.connections.open` (the `socket_url` of a `FakeSocketMode`)
and anything else with `{"ok": true}`. `fail_once(method)` makes the next call
of that method get a 429 with `Retry-After`. `FakeSocketMode` is a minimal
WebSocket server (stdlib only) playing Slack's Socket Mode endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0SPACE01"


@dataclass
class Call:
    """One Web API call as the fake saw it."""

    method: str
    params: dict[str, Any]
    authorized: bool
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] | None = None  # what the fake answered (None: an injected failure)


def sign(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send: `X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + ts.encode() + b":" + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class FakeSlack:
    """The fake API; use as a context manager or call `start()` / `stop()`."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.socket_url: str | None = None  # what apps.connections.open returns
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def response_url(self, name: str) -> str:
        """A slash command's `response_url` on this fake (its posts are recorded as method `response_url`)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/respond/{name}"

    @property
    def url(self) -> str:
        """The base URL to give `WebClient(base_url=...)` (with the trailing slash)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    # -- control and inspection -------------------------------------------
    def fail_once(self, method: str, status: int = 429, retry_after: int = 1) -> None:
        """The next call of `method` gets `status` (429: with `Retry-After`)."""
        with self._lock:
            self._failures.setdefault(method, []).append((status, retry_after))

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls, oldest first (of `method` only when given)."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for(
        self,
        predicate: Callable[[list[Call]], bool],
        timeout: float = 10.0,
        interval: float = 0.02,
    ) -> list[Call]:
        """Poll the recorded calls until `predicate(calls)` holds; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls()
            if predicate(calls):
                return calls
            if time.monotonic() > deadline:
                summary = [(c.method, c.params.get("channel"), c.params.get("thread_ts")) for c in calls]
                raise AssertionError(f"timed out after {timeout}s; calls so far: {summary}")
            time.sleep(interval)

    def wait_calls(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        """Wait until at least `count` calls of `method` were made; return them."""
        self.wait_for(lambda calls: sum(c.method == method for c in calls) >= count, timeout)
        return self.calls(method)

    # -- the API -----------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        method = "response_url" if path.startswith("/respond/") else path.rsplit("/", 1)[-1]
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length).decode("utf-8") if length else ""
        ctype = req.headers.get("Content-Type", "")
        params: dict[str, Any]
        if "json" in ctype:
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw, keep_blank_values=True))
        for k in ("blocks", "attachments"):
            if isinstance(params.get(k), str):
                try:
                    params[k] = json.loads(params[k])
                except ValueError:
                    pass
        auth = req.headers.get("Authorization", "")
        if method == "response_url":  # a slash command's response_url: no token, the URL is the secret
            params["path"] = path
            authorized = True
        elif method == "apps.connections.open":  # called with the app-level token
            authorized = auth.startswith("Bearer xapp-")
        else:
            authorized = auth.startswith("Bearer ") and (self.token is None or auth == f"Bearer {self.token}")
        call = Call(method, params, authorized)
        with self._lock:
            self._calls.append(call)
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            status, retry_after = failure
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            req.send_response(status)
            if status == 429:
                req.send_header("Retry-After", str(retry_after))
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            req.wfile.write(body)
            return
        result = self._answer(method, params, authorized)
        call.response = result
        body = json.dumps(result).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def _answer(self, method: str, params: dict[str, Any], authorized: bool) -> dict[str, Any]:
        if not authorized:
            return {"ok": False, "error": "not_authed"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://spacebot-test.slack.com/",
                "team": "Space Test",
                "user": "spacebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID, "type": "message"},
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url} if self.socket_url else {"ok": False, "error": "no_socket"}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        return {"ok": True}


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    """Slack's Socket Mode endpoint in miniature: says hello, sends envelopes, records acks."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._send_lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._closed = False

    def response_url(self, name: str) -> str:
        """A slash command's `response_url` on this fake (its posts are recorded as method `response_url`)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/respond/{name}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link/?ticket=test"

    def start(self) -> FakeSocketMode:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_connected(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._conns:
            if time.monotonic() > deadline:
                raise AssertionError("the Socket Mode client never connected")
            time.sleep(0.02)

    def send(self, message: dict[str, Any]) -> None:
        """Send a JSON message to the newest connection."""
        with self._lock:
            conn = self._conns[-1]
        self._send_frame(conn, 0x1, json.dumps(message).encode())

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            if time.monotonic() > deadline:
                raise AssertionError(f"no ack for envelope {envelope_id}; acks: {self.acks}")
            time.sleep(0.02)

    # -- the protocol ------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                request += chunk
            key = ""
            for line in request.decode("latin-1").split("\r\n"):
                if line.lower().startswith("sec-websocket-key:"):
                    key = line.split(":", 1)[1].strip()
            accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
            )
            with self._lock:
                self._conns.append(conn)
            hello = {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A0SPACEBOT"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
            self._send_frame(conn, 0x1, json.dumps(hello).encode())
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == 0x1:
                    with self._lock:
                        self.acks.append(json.loads(payload))
                elif opcode == 0x9:
                    self._send_frame(conn, 0xA, payload)
                elif opcode == 0x8:
                    self._send_frame(conn, 0x8, payload[:2])
                    return
        except (OSError, ConnectionError, ValueError):
            return

    @staticmethod
    def _recv_exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_frame(self, conn: socket.socket) -> tuple[int, bytes]:
        b0, b1 = self._recv_exact(conn, 2)
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._recv_exact(conn, 2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._recv_exact(conn, 8))
        mask = self._recv_exact(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._recv_exact(conn, length)))
        return b0 & 0x0F, payload

    def _send_frame(self, conn: socket.socket, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._send_lock:
            conn.sendall(header + payload)
