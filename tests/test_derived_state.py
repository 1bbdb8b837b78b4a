"""Damaged state beside Chroma heals itself: `ask` rebuilds it, `ingest` and `doctor --repair` too.

A real sample index (real model, real Chroma); each file beside Chroma is cut in half in turn.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE, make_settings
from typer.testing import CliRunner

QUESTION = "which country was the 40th to sign the artemis accords?"
# Every file the product keeps beside Chroma (a test below checks this list is complete).
DERIVED_FILES = [
    "bm25/fingerprint.txt",
    "bm25/manifest.json",
    "bm25/side.sqlite3",
    "bm25/chunks/meta.json",
    "bm25/chunks/*.store",
    "bm25/chunks/*.idx",
    "bm25/chunks/*.term",
    "bm25/chunks/*.fast",
    "bm25/chunks/*.fieldnorm",
    "bm25/chunks/*.pos",
    "bm25/articles/meta.json",
    "bm25/articles/*.idx",
    "bm25/articles/*.term",
    "model/model.onnx",
    "model/tokenizer.json",
    "model/source.json",
    "model/manifest.json",
]
# tantivy's own bookkeeping: its list of the files it manages and its (empty) lock files
UNCHECKED = ["bm25/*/.managed.json", "bm25/*/.tantivy-*.lock", "bm25/articles/*"]
MAX_STDERR_LINES = 3


def _copy_index(settings, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(settings.data_dir, data)
    return data


def _cut_in_half(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def _sound(settings) -> bool:
    from ingest.derived_state import keyword_problem, query_model_problem
    from ingest.store import ChunkStore

    store = ChunkStore(settings, create=False)
    return (
        keyword_problem(settings, store.fingerprint(), deep=True) is None
        and query_model_problem(settings, deep=True) is None
    )


def _ask(data: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "CHROMA_"))}
    env.update(SPACEBOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot.faces.cli", "ask", QUESTION],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_the_list_of_derived_files_is_complete(sample_settings):
    data = sample_settings.data_dir
    user_data = sample_settings.state_db.name  # conversations and feedback: checked by doctor, never rebuilt
    beside_chroma = sorted(
        p.relative_to(data).as_posix()
        for p in data.rglob("*")
        if p.is_file() and "chroma" not in p.relative_to(data).parts and not p.name.startswith(user_data)
    )
    derived = {p.relative_to(data).as_posix() for pattern in DERIVED_FILES for p in data.glob(pattern)}
    unchecked = {p.relative_to(data).as_posix() for pattern in UNCHECKED for p in data.glob(pattern)}
    assert len(derived) >= len(DERIVED_FILES)
    assert set(beside_chroma) - unchecked == derived - unchecked


def _resolve(data: Path, pattern: str) -> Path:
    return max(data.glob(pattern), key=lambda p: p.stat().st_size)


@pytest.mark.slow
@pytest.mark.parametrize("name", DERIVED_FILES)
def test_a_file_cut_in_half_is_rebuilt_by_ask_and_by_ingest(sample_settings, tmp_path, name):
    from ingest.pipeline import run_ingest

    data = _copy_index(sample_settings, tmp_path)
    settings = make_settings(data)
    target = _resolve(data, name)
    _cut_in_half(target)
    result = _ask(data)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Lithuania" in result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= MAX_STDERR_LINES, result.stderr
    assert _sound(settings), "ask answered but left the damage in place"

    target = _resolve(data, name)
    _cut_in_half(target)
    summary = run_ingest([str(SAMPLE)], settings)
    assert (summary.new, summary.changed, summary.unchanged) == (0, 0, 24), "no article changed"
    assert len(summary.repaired) == 1 and target.name.split(".")[-1] in summary.repaired[0], summary.repaired
    assert _sound(settings)


@pytest.mark.slow
def test_doctor_reports_repairs_and_then_finds_all_well(sample_settings, tmp_path, monkeypatch):
    from bot.faces.cli import app

    data = _copy_index(sample_settings, tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(data))
    runner = CliRunner()
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    _cut_in_half(_resolve(data, "bm25/chunks/*.store"))
    _cut_in_half(data / "model" / "tokenizer.json")

    found = runner.invoke(app, ["doctor", "--json"])
    assert found.exit_code == 1
    status = {c["part"]: c["status"] for c in json.loads(found.stdout)}
    assert status == {
        "chroma": "ok",
        "model": "ok",
        "keyword index": "broken",
        "query model": "broken",
        "state store": "ok",
    }
    fixed = runner.invoke(app, ["doctor", "--repair"])
    assert fixed.exit_code == 1
    assert [line.split()[0] for line in fixed.stdout.splitlines()].count("repaired") == 2, fixed.stdout
    assert runner.invoke(app, ["doctor"]).exit_code == 0


@pytest.mark.slow
def test_an_unreadable_chroma_gets_one_line_that_says_what_to_do(sample_settings, tmp_path):
    data = _copy_index(sample_settings, tmp_path)
    _cut_in_half(data / "chroma" / "chroma.sqlite3")
    result = _ask(data)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "spacebot ingest" in lines[0], result.stderr
