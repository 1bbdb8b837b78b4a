"""The shipped reader: its file, what it prefers on the README's demo question, and its training script."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.reader import MODEL_PATH, Reader, ReaderError, pair_text
from bot.core.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "ingest" / "samples" / "space-news"
# sha256 of bot/models/reader.onnx as `make train-reader` wrote it (docs/BENCHMARKS.md, "Reader")
READER_SHA256 = "9741f5670fc01f58f8f8332420a884e90e49e95c6c9223048642ed540a954515"
DEMO = "which country was the 40th to sign the artemis accords?"


@pytest.fixture(scope="session")
def reader() -> Reader:
    return Reader(threads=1)


def _sentence(path: Path, starts: str) -> str:
    return next(s for s in split_sentences(path.read_text(encoding="utf-8")) if starts in s)


def test_shipped_reader_file_is_the_trained_one():
    digest = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
    assert digest == READER_SHA256, f"{MODEL_PATH} changed: rebuild with `make train-reader` and update the pin"
    assert MODEL_PATH.stat().st_size <= 25 * 1024 * 1024


def test_reader_prefers_the_sentence_that_states_the_answer(reader):
    article = SAMPLE / "policy" / "artemis-accords-lithuania.md"
    lithuania = _sentence(article, "Lithuania signed the Artemis Accords on May 15, 2024")
    germany = _sentence(article, "Germany signed as the 29th country")
    assert "nations to 40" in lithuania
    scores = reader.scores(DEMO, [germany, lithuania])
    assert scores[1] > scores[0], scores


def test_reader_scores_one_logit_per_sentence_in_order(reader):
    sentences = ["NASA launched the probe in 2020.", "The weather was fine.", "NASA launched the probe in 2020."]
    scores = reader.scores("when did NASA launch the probe?", sentences)
    assert len(scores) == 3 and scores[0] == pytest.approx(scores[2], abs=1e-4)
    assert reader.scores("anything?", []) == []
    with pytest.raises(ValueError, match="2 contexts for 3 sentences"):
        reader.scores("q?", sentences, ["a", "b"])


def test_missing_model_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(ReaderError, match="make train-reader"):
        Reader(tmp_path / "absent.onnx").scores("q?", ["a sentence."])


def test_pair_text_is_question_then_context_and_sentence():
    assert pair_text(" who  signed? ", "Lithuania signed.", "Accords") == ("who signed?", "Accords | Lithuania signed.")
    assert pair_text("who signed?", "Lithuania signed.") == ("who signed?", "Lithuania signed.")


@pytest.mark.slow
def test_train_reader_runs_end_to_end_on_a_tiny_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted((SAMPLE / "policy").glob("*.md"))[:6]:
        (corpus / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "reader.onnx"
    args = ["--corpus", str(corpus), "--out", str(out), "--work-dir", str(tmp_path / "work")]
    args += ["--max-examples", "8", "--val-examples", "4", "--epochs", "1", "--no-teacher-eval", "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "eval.train_reader", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads((tmp_path / "work" / "report.json").read_text())
    assert report["training"]["steps"] >= 1 and 0 <= report["student_int8"]["top1"] <= 1
    assert out.is_file() and out.stat().st_size < 25 * 1024 * 1024
    scores = Reader(out).scores(DEMO, ["Lithuania signed the Artemis Accords.", "The weather was fine."])
    assert len(scores) == 2
    assert hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest() == READER_SHA256  # the shipped file is untouched
