"""The processes `make bench-serve` starts: `spacebot serve` replicas, a `chroma run` server, PostgreSQL.

Each runs this checkout's code on a free loopback port, logs to a file in its
folder, and is stopped (SIGTERM, then SIGKILL of its process group) by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # seconds until ready: the full index's BM25 copy and models load on a shared 2-core machine
STOP_TIMEOUT = 30  # seconds SIGTERM may take before SIGKILL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A server subprocess whose `url` answers `ready_path` with 200 once `wait_ready()` returns."""

    def __init__(
        self,
        command: list[str],
        folder: Path,
        env: dict[str, str],
        ready_path: str,
        port: int,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.log = folder / "server.log"
        # the caller's settings only: none from this shell, and no other server's metrics folder
        inherited = ("SPACEBOT_", "CHROMA_", "SLACK_", "PROMETHEUS_MULTIPROC_DIR")
        environment = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
        environment.update(PYTHONPATH=str(ROOT), **{k: str(v) for k, v in env.items()})
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=folder, env=environment, stdout=log, stderr=log, start_new_session=True
            )

    def wait_ready(self) -> str:
        """Block until `ready_path` answers 200; returns the base URL (the log's tail if it never does)."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                if httpx.get(self.url + self.ready_path, timeout=5).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"error: {self.url} did not become ready; its log ends:\n{self.log_tail()}")
            time.sleep(0.5)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def rss_mb(self) -> float:
        """Resident memory of the process, in MB (0 when it is gone)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0.0
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kb) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def start_serve(folder: Path, env: dict[str, str], workers: int = 1, start_timeout: float = START_TIMEOUT) -> Process:
    """`spacebot serve --workers N` with `env`; call `wait_ready()` before use."""
    port = free_port()
    command = [sys.executable, "-m", "bot.faces.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return Process(command, folder, env, "/readyz", port, start_timeout)


def start_chroma(path: Path, folder: Path) -> Process:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    command = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return Process(command, folder, {}, "/api/v2/heartbeat", port)


def replicas(
    stack: ExitStack, work: Path, data_dir: Path, count: int, env: dict[str, str], database_url: str
) -> list[Process]:
    """`count` replicas over a `chroma run` server holding a copy of `data_dir/chroma`, sharing
    `database_url`; each gets copies of the query model and BM25 folders (no rebuild at start).
    Everything started is stopped when `stack` closes."""
    if not (work / "chroma-server").exists():
        shutil.copytree(data_dir / "chroma", work / "chroma-server")
    chroma = start_chroma(work / "chroma-server", work / "chroma-log")
    stack.callback(chroma.stop)
    chroma.wait_ready()
    servers = []
    for name in "abcdefgh"[:count]:
        data = work / f"replica-{name}"
        for part in ("model", "bm25"):
            if not (data / part).exists():
                shutil.copytree(data_dir / part, data / part)
        shared = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": chroma.url.rsplit(":", 1)[1]}
        server = start_serve(data, {**env, **shared, "SPACEBOT_DATA_DIR": data, "SPACEBOT_DATABASE_URL": database_url})
        stack.callback(server.stop)
        servers.append(server)
    for server in servers:
        server.wait_ready()
    return servers
