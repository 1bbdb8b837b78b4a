"""Server mode, a Chroma server that is down, and a kill -9 in the middle of an ingest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE, free_port, make_settings
from test_ingest import assert_index_consistent

SPACEBOT = [sys.executable, "-m", "bot.faces.cli"]
pytestmark = pytest.mark.slow


def _env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "CHROMA_"))}
    env.update({"SPACEBOT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}, **extra)
    return env


def test_server_mode_ingests_and_reports_the_server(tmp_path, chroma_server):
    from ingest.pipeline import run_ingest
    from ingest.store import ChunkStore

    settings = make_settings(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_server.port)
    summary = run_ingest([str(SAMPLE)], settings)
    assert summary.new == 24 and not summary.failed
    assert summary.location == f"chroma server http://127.0.0.1:{chroma_server.port}"
    assert not (tmp_path / "data" / "chroma").exists(), "nothing written to the embedded store"
    assert ChunkStore(settings, create=False).count() == summary.total_chunks
    again = run_ingest([str(SAMPLE)], settings)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 24)
    assert_index_consistent(settings)


def test_a_chroma_server_that_is_down_gives_one_clear_line(tmp_path):
    port = free_port()
    result = subprocess.run(
        [*SPACEBOT, "ingest", str(SAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port)),
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and f"127.0.0.1:{port}" in lines[0]
    assert "Traceback" not in result.stderr


EXTRA_COPIES = 16  # ~1,000 more chunks: three embedding batches, so the kill lands between two writes


def test_kill_9_mid_ingest_then_rerun_leaves_every_article_whole_once(tmp_path):
    # Self-contained (no ../shared needed): the sample, plus copies of its one-article-per-file
    # articles under other paths, i.e. other article ids.
    folder = tmp_path / "news"
    shutil.copytree(SAMPLE, folder)
    plain = sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".md", ".txt"))
    for n in range(EXTRA_COPIES):
        for path in plain:
            target = folder / "extra" / f"copy-{n}" / path.relative_to(SAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    articles = 24 + EXTRA_COPIES * len(plain)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sqlite = data / "chroma" / "chroma.sqlite3"
    deadline = time.monotonic() + 300
    baseline = None
    while proc.poll() is None and time.monotonic() < deadline:
        if sqlite.exists():
            size = sqlite.stat().st_size
            baseline = baseline or size
            if size > baseline:  # the first batch of chunks is being written
                break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed; give it more input"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    rerun = subprocess.run(
        [*SPACEBOT, "ingest", str(folder), "--json"], env=_env(data), capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["total_articles"] == articles
    assert summary["unchanged"] + summary["new"] + summary["changed"] == articles
    assert summary["new"] + summary["changed"] > 0, "the killed run left work for the rerun"
    states = assert_index_consistent(make_settings(data))
    assert len(states) == articles

    third = subprocess.run(
        [*SPACEBOT, "ingest", str(folder), "--json"], env=_env(data), capture_output=True, text=True, timeout=600
    )
    assert json.loads(third.stdout)["unchanged"] == articles
