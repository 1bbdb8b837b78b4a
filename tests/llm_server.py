"""Loopback servers for LLM tests: real llama.cpp, a recording proxy, broken servers.

`llama_server()` (from `eval/llm_server.py`, shared with `eval.bench_llm`) runs
SmolLM2-135M under llama.cpp in a child process on 127.0.0.1.

`http_stub()` answers with canned replies (fixed, streamed piece by piece, or
computed from the request) or forwards to an upstream server, recording every
request; `sse()` builds an OpenAI chat.completions stream; `silent_server()`
accepts connections and never answers; `free_port()` is a port nobody listens on.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from conftest import free_port  # noqa: F401 (re-exported for the LLM tests)

from eval.llm_server import READY, gguf_path, llama_server, main  # noqa: F401 (re-exported)


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Yield `http://127.0.0.1:PORT/v1` of a server that accepts and never answers."""
    sock = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        sock.close()


@dataclass
class Stub:
    """What `http_stub` serves, and what it received: (method, path, JSON or raw body)."""

    url: str = ""
    requests: list[tuple[str, str, object]] = field(default_factory=list)

    def bodies(self, suffix: str = "/chat/completions") -> list[object]:
        """The bodies of the requests whose path ends with `suffix`, oldest first."""
        return [body for _, path, body in list(self.requests) if path.endswith(suffix)]


@dataclass
class Pieces:
    """A reply body sent piece by piece, `delay` seconds apart (no Content-Length)."""

    parts: Sequence[str]
    delay: float = 0.0


# A canned reply: (status, content type, body); the body a string or `Pieces`.
Reply = tuple[int, str, "str | Pieces"]
# Or computed from the request: (method, path, parsed body) -> a Reply, or None to fall through.
Responder = Callable[[str, str, object], "Reply | None"]


def completion(content: str | None, model: str = "m") -> Reply:
    """A non-streamed OpenAI chat.completions reply saying `content`."""
    body = {
        "id": "stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }
    return 200, "application/json", json.dumps(body)


def sse(pieces: Sequence[str], delay: float = 0.0, model: str = "m") -> Reply:
    """A streamed OpenAI chat.completions reply (server-sent events), one piece per event,
    `delay` seconds apart, then `[DONE]`."""

    def event(delta: dict, finish: str | None = None) -> str:
        chunk = {
            "id": "stub",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n"

    events = [event({"role": "assistant", "content": ""})]
    events += [event({"content": p}) for p in pieces]
    events += [event({}, "stop"), "data: [DONE]\n\n"]
    return 200, "text/event-stream", Pieces(events, delay)


def chat_replies(answer: Sequence[str], rewrite: str | Reply | None = None, delay: float = 0.0) -> Responder:
    """An LLM for `/chat/completions` requests: a request carrying numbered passages is
    answered with the `answer` pieces (streamed `delay` seconds apart when it asks for a
    stream, else in one reply); any other (a follow-up rewrite) gets `rewrite`, a
    string or a canned reply (None: fall through to upstream or 404)."""

    def respond(method: str, path: str, body: object) -> Reply | None:
        if not path.endswith("/chat/completions") or not isinstance(body, dict):
            return None
        if "Passages:" in json.dumps(body.get("messages")):
            return sse(answer, delay) if body.get("stream") else completion("".join(answer))
        return completion(rewrite) if isinstance(rewrite, str) else rewrite

    return respond


def replies_by_question(answers: dict[str, Sequence[str]]) -> Responder:
    """An LLM whose answer depends on the question: a request whose last message ends with
    `Question: Q` gets the pieces `answers[Q]` (streamed when it asks for a stream; an
    empty list is an empty reply). Any other request falls through."""

    def respond(method: str, path: str, body: object) -> Reply | None:
        if not path.endswith("/chat/completions") or not isinstance(body, dict):
            return None
        last = (body.get("messages") or [{}])[-1].get("content") or ""
        for question, pieces in answers.items():
            if last.endswith(f"Question: {question}"):
                return sse(pieces) if body.get("stream") else completion("".join(pieces))
        return None

    return respond


class _StubHandler(http.server.BaseHTTPRequestHandler):
    """Records each request, then answers it canned, forwarded upstream, or 404.
    `http_stub` subclasses it with its `stub`, `canned` and `root`."""

    stub: Stub
    root: str | None = None

    def canned(self, method: str, path: str, body: object) -> Reply | None:
        return None

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            body: object = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self.stub.requests.append((self.command, self.path, body))
        reply = self.canned(self.command, self.path, body)
        if reply is not None:
            status, ctype, text = reply
            if isinstance(text, Pieces):
                return self._stream(status, ctype, text)
            return self._reply(status, ctype, text.encode())
        if self.root is None:
            return self._reply(404, "application/json", b'{"error": "not found"}')
        return self._forward(raw)

    def _forward(self, raw: bytes) -> None:
        req = urllib.request.Request(
            self.root + self.path,
            data=raw or None,
            method=self.command,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
        )
        try:
            up = urllib.request.urlopen(req, timeout=120)
        except urllib.error.HTTPError as exc:
            up = exc
        with up:
            self.send_response(up.status)
            self.send_header("Content-Type", up.headers.get("Content-Type", ""))
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            while chunk := up.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()

    def _reply(self, status: int, ctype: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, status: int, ctype: str, pieces: Pieces) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes
        for i, part in enumerate(pieces.parts):
            if i and pieces.delay:
                time.sleep(pieces.delay)
            try:
                self.wfile.write(part.encode())
                self.wfile.flush()
            except OSError:  # the client gave up (e.g. its timeout)
                return

    do_GET = do_POST = _handle


@contextlib.contextmanager
def http_stub(replies: dict[str, Reply] | Responder | None = None, upstream: str | None = None) -> Iterator[Stub]:
    """A recording HTTP server on 127.0.0.1; its `url` ends in `/v1`.

    `replies` maps a path suffix to a canned `(status, content type, body)` (a body of
    `Pieces` is streamed piece by piece), or is a function of (method, path, body)
    returning such a reply or None. Any request without a canned reply is forwarded
    to `upstream` (a base URL ending in `/v1`) and the answer streamed back, or gets 404.
    """
    stub = Stub()
    replies = replies or {}

    def canned(method: str, path: str, body: object) -> Reply | None:
        if callable(replies):
            return replies(method, path, body)
        for suffix, reply in replies.items():
            if path.endswith(suffix):
                return reply
        return None

    root = upstream.removesuffix("/v1") if upstream else None
    handler = type("Handler", (_StubHandler,), {"stub": stub, "root": root, "canned": staticmethod(canned)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


if __name__ == "__main__":
    main()
