"""`spacebot serve` as a real subprocess on a free loopback port, running this checkout's code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import ROOT, free_port

START_TIMEOUT = 180  # seconds until /readyz says 200: imports, the ONNX model, a BM25 rebuild, on a busy machine
STOP_TIMEOUT = 30  # seconds SIGTERM may take (uvicorn lets requests in flight finish) before SIGKILL


class ServeProcess:
    """`python -m bot.faces.cli serve --port P --workers W` with `env` added to the environment.

    Runs in `folder` (no developer `.env` is read there) and logs to `folder/serve.log`,
    whose tail is shown when the server fails to come up.
    """

    def __init__(self, folder: Path, env: dict[str, str], workers: int = 1) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "serve.log"
        environment = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        environment.update(PYTHONPATH=str(ROOT), **{k: str(v) for k, v in env.items()})
        command = [sys.executable, "-m", "bot.faces.cli", "serve", "--port", str(self.port)]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [*command, "--workers", str(workers)],
                cwd=folder,
                env=environment,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: the workers go with it on a hard stop
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        """Block until GET /readyz answers 200; returns the base URL."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"spacebot serve on {self.url} did not become ready:\n{self.log_tail()}")
            time.sleep(0.3)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
