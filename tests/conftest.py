"""Shared fixtures: real model, real Chroma, the project's sample corpus.

The model and the sample index are built once per test session.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "ingest" / "samples" / "space-news"

# Settings from a developer's .env or environment must not leak into tests.
for _key in [k for k in os.environ if k.startswith(("SPACEBOT_", "CHROMA_", "SLACK_"))]:
    del os.environ[_key]

# A shell that starts the suite in the background (`nohup`, `cmd &` in a script) ignores SIGINT, and the
# children inherit that: Python then never raises KeyboardInterrupt and the Ctrl-C tests fail for the
# launcher's sake (seen: a fresh-clone `.ci/run` under nohup, 3 failures). Python's own handler goes back,
# and the processes tests start inherit the default again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def make_settings(data_dir: Path | None = None, **overrides):
    """Settings for a test (the one way tests build them): nothing read from `.env`, its
    own data dir when it stores anything, fields given by name or by variable name."""
    from ingest.settings import Settings

    if data_dir is not None:
        overrides["SPACEBOT_DATA_DIR"] = data_dir
    return Settings(_env_file=None, **overrides)


@pytest.fixture
def settings(tmp_path):
    """Settings with this test's own data dir."""
    return make_settings(tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory):
    """Settings whose index holds the sample corpus (ingested once per session)."""
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("sample-index"))
    summary = run_ingest([str(SAMPLE)], settings)
    assert not summary.failed, summary.failed
    return settings


@pytest.fixture(scope="session")
def embedder():
    """The real sentence-transformers model, loaded once."""
    from ingest.embedding import DocumentEmbedder
    from ingest.model_files import model_dir

    return DocumentEmbedder(model_dir())


@pytest.fixture(scope="session")
def sample_service(sample_settings):
    """The real answering core over the sample index (no LLM)."""
    from bot.core.service import AnswerService

    return AnswerService(sample_settings)


class ChromaServer:
    """A real `chroma run` server on a free loopback port."""

    def __init__(self, path: Path, port: int | None = None):
        self.port = port or free_port()
        chroma = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("chroma server did not start within 60 s")
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def chroma_server(tmp_path):
    """A `chroma run` server for one test (stopped at the end, or earlier by the test)."""
    server = ChromaServer(tmp_path / "chroma-server")
    yield server
    server.stop()


class FakeClock:
    """A clock for the state stores that moves only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL 15 server for the session (initdb + pg_ctl in a temp folder, loopback).

    Skipped only outside CI when the server binaries are not installed; in CI
    (`CI` set, as `.ci/run` does) their absence fails the tests.
    """
    from pg_server import PostgresServer, postgres_bin_dir

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing; .ci/run installs them")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    server = PostgresServer(bin_dir)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request, tmp_path):
    """A fresh, empty state database on each backend: a SQLite path, or a new PostgreSQL database URL."""
    if request.param == "sqlite":
        return tmp_path / "state.sqlite3"
    server = request.getfixturevalue("postgres_server")
    return server.fresh_schema(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture()
def site():
    """A threaded HTTP server on 127.0.0.1 serving the pages and feeds a test puts on it."""
    from web_fixture import Site

    server = Site()
    yield server
    server.close()
