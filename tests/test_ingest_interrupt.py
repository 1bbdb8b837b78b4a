"""Stopping and doubling `spacebot ingest` (SIGINT/SIGTERM mid-run, two ingests of one index) and
a data dir that cannot be written, with real subprocesses on a real index."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import SAMPLE, make_settings
from test_ingest import assert_index_consistent
from test_ingest_robustness import SPACEBOT, _env

pytestmark = pytest.mark.slow

EXTRA_COPIES = 16  # ~1,000 more chunks: three embedding batches, so the signal lands between writes
INTERRUPTED = re.compile(r"^interrupted after (\d+) of (\d+) articles; run the same command again to finish$")


def news_folder(tmp_path: Path, copies: int = EXTRA_COPIES) -> tuple[Path, int]:
    """The sample plus copies of its one-article files under other paths (other article ids)."""
    folder = tmp_path / "news"
    shutil.copytree(SAMPLE, folder)
    plain = sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".md", ".txt"))
    for n in range(copies):
        for path in plain:
            target = folder / "extra" / f"copy-{n}" / path.relative_to(SAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return folder, 24 + copies * len(plain)


def chunks_written(data: Path) -> int:
    """Rows in the embedded Chroma's SQLite, read without writing to it (0 before it exists)."""
    import sqlite3

    path = data / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    except sqlite3.Error:  # not created yet, or busy
        return 0


def wait_for_first_write(proc: subprocess.Popen, data: Path) -> None:
    """Until the first batch of chunks is in the index (the next one is being embedded)."""
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and not chunks_written(data):
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be stopped; give it more input"


def test_ctrl_c_says_how_far_it_got_and_a_rerun_finishes(tmp_path):
    folder, articles = news_folder(tmp_path)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_first_write(proc, data)
    proc.send_signal(signal.SIGINT)
    done = assert_stopped_cleanly(proc, data, articles)
    assert 0 < done < articles

    rerun = subprocess.run(
        check=False,
        args=[*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["new"], summary["unchanged"]) == (articles - done, done)
    assert len(assert_index_consistent(make_settings(data))) == articles


def test_sigterm_stops_like_ctrl_c(tmp_path):
    folder, _ = news_folder(tmp_path, copies=4)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_lock(proc, data)
    proc.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(proc, data, None)


def assert_stopped_cleanly(proc: subprocess.Popen, data: Path, articles: int | None) -> int:
    """Exit 130 and one line saying N of M; the index holds exactly N articles, each whole. Returns N."""
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
    match = INTERRUPTED.match(err.strip().splitlines()[-1])
    assert match, err
    done, total = int(match[1]), int(match[2])
    assert articles is None or total == articles
    states = _states(data) if chunks_written(data) else {}
    assert len(states) == done
    assert all(st.complete for st in states.values())
    return done


def wait_for_lock(proc: subprocess.Popen, data: Path) -> None:
    """Until the ingest holds the data dir's lock (its pid file is written)."""
    pid_file = data / "ingest.pid"
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text().strip()) and proc.poll() is None:
        assert time.monotonic() < deadline, "the ingest never took the lock"
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be stopped"


def _states(data: Path) -> dict:
    from ingest.store import ChunkStore

    return ChunkStore(make_settings(data), create=False).article_states()


def test_a_second_ingest_waits_for_the_first_and_does_no_work_twice(tmp_path):
    folder, articles = news_folder(tmp_path, copies=4)
    data = tmp_path / "data"
    first = subprocess.Popen(
        [*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_lock(first, data)
    second = subprocess.run(
        check=False,
        args=[*SPACEBOT, "ingest", str(folder), "--json"],
        env=_env(data),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, (err, second.stderr)
    assert f"another ingest is running (pid {first.pid})" in second.stderr
    one, two = json.loads(out), json.loads(second.stdout)
    assert (one["new"], two["new"], two["unchanged"]) == (articles, 0, articles)
    assert two["chunks"] == 0, "the second ingest embedded something again"
    assert len(assert_index_consistent(make_settings(data))) == articles
    assert not (data / "ingest.pid").exists()


def test_ingest_into_an_unwritable_data_dir_names_the_path(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    result = subprocess.run(
        check=False,
        args=[*SPACEBOT, "ingest", str(SAMPLE)],
        env=_env(blocker / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(blocker) in lines[0], result.stderr


def test_ask_on_a_read_only_data_dir_names_the_path_that_needs_write_access(tmp_path, sample_settings):
    """The sample index mounted read-only (a private mount namespace: nothing outside sees it)."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1)")
    mounted = tmp_path / "ro"
    mounted.mkdir()
    script = f'mount --bind -o ro "{sample_settings.data_dir}" "{mounted}" || exit 99; exec "$@"'
    result = subprocess.run(
        check=False,
        args=[
            "unshare",
            "-rm",
            "sh",
            "-c",
            script,
            "sh",
            *SPACEBOT,
            "ask",
            "who signed the artemis accords for india?",
        ],
        env=_env(mounted),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode == 99 or "unshare failed" in result.stderr:
        pytest.skip(f"cannot make a read-only mount here: {result.stderr.strip()[:200]}")
    lines = result.stderr.strip().splitlines()
    if result.returncode == 0:  # answering needed no writes: fine too
        assert "[1]" in result.stdout
        return
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0] == (
        f"error: {mounted / 'chroma' / 'chroma.sqlite3'} needs write access: the embedded "
        "Chroma opens it for writing even to answer questions"
    )
