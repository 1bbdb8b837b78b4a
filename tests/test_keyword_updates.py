"""The keyword index follows the store article by article: updated in place, never rebuilt, and
seen by other processes without reloading anything whole.

A real sample index (real model, real Chroma, real tantivy), copied per test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SAMPLE, make_settings

NEW_ARTICLE = """Quokkasat enters orbit

The Quokkasat cubesat reached orbit on Sunday, its operators at Zanthoria Aerospace said.
The spacecraft will test a new deorbit sail.
"""


def _copy(sample_settings, tmp_path: Path) -> tuple[object, Path]:
    data = tmp_path / "data"
    shutil.copytree(sample_settings.data_dir, data)
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    return make_settings(data), corpus


def _segments(settings) -> set[str]:
    return {p.name for p in (settings.keyword_dir / "chunks").iterdir() if p.suffix in (".store", ".idx")}


def _found(settings, query: str) -> list[str]:
    from ingest.keyword_index import KeywordIndex, article_of

    return sorted({article_of(cid) for cid, _ in KeywordIndex(settings.keyword_dir).search(query, 10)})


def test_an_added_changed_and_removed_article_is_followed_without_a_rebuild(sample_settings, tmp_path):
    from ingest.pipeline import run_ingest

    settings, corpus = _copy(sample_settings, tmp_path)
    before = _segments(settings)
    assert _found(settings, "zanthoria") == []

    (corpus / "quokkasat.txt").write_text(NEW_ARTICLE)
    summary = run_ingest([str(corpus)], settings, prune=True)
    assert (summary.new, summary.repaired) == (1, [])
    [added] = _found(settings, "zanthoria quokkasat")
    assert added.endswith("quokkasat.txt")
    assert before <= _segments(settings), "the index was rebuilt: its earlier segments are gone"

    (corpus / "quokkasat.txt").write_text(NEW_ARTICLE.replace("Zanthoria", "Morvania"))
    assert run_ingest([str(corpus)], settings, prune=True).changed == 1
    assert _found(settings, "zanthoria") == []
    assert _found(settings, "morvania") == [added]

    (corpus / "quokkasat.txt").unlink()
    assert run_ingest([str(corpus)], settings, prune=True).removed == 1
    assert _found(settings, "morvania quokkasat") == []
    assert before <= _segments(settings)


def test_the_statistics_follow_the_articles(sample_settings, tmp_path):
    from ingest.keyword_index import KeywordIndex
    from ingest.pipeline import run_ingest

    settings, corpus = _copy(sample_settings, tmp_path)
    chunks = len(KeywordIndex(settings.keyword_dir))
    (corpus / "quokkasat.txt").write_text(NEW_ARTICLE + "\nThe Zanthoria team thanked Zanthoria's partners.\n")
    run_ingest([str(corpus)], settings, prune=True)
    keyword = KeywordIndex(settings.keyword_dir)
    assert len(keyword) == chunks + 1
    assert keyword.doc_freq.get("zanthoria") == 1
    assert "zanthoria" in keyword.proper  # written capitalised mid-sentence
    [row] = keyword.rows_with("quokkasat")
    assert keyword.mentions("quokkasat", [keyword.table.columns["article_id"][row]])
    assert not keyword.mentions("quokkasat", ["another-article"])


def _ingest_in_another_process(data: Path, corpus: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "CHROMA_"))}
    env.update(SPACEBOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "bot.faces.cli", "ingest", str(corpus)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_reader_open_in_one_process_sees_what_another_process_ingests(sample_settings, tmp_path, caplog):
    from ingest.keyword_index import KeywordIndex

    settings, corpus = _copy(sample_settings, tmp_path)
    reader = KeywordIndex(settings.keyword_dir)  # opened before the ingest, never reopened
    assert reader.search("zanthoria", 5) == []
    (corpus / "quokkasat.txt").write_text(NEW_ARTICLE)
    _ingest_in_another_process(settings.data_dir, corpus)
    [(chunk_id, _)] = reader.search("zanthoria", 5)
    assert reader.table.columns["title"][chunk_id] == "Quokkasat enters orbit"
    assert "rebuilding" not in caplog.text


def test_a_damaged_segment_is_found_and_repaired_by_doctor(sample_settings, tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from bot.faces.cli import app

    settings, _ = _copy(sample_settings, tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(settings.data_dir))
    store = max((settings.keyword_dir / "chunks").glob("*.store"), key=lambda p: p.stat().st_size)
    with open(store, "r+b") as handle:  # same size, other bytes: only a checksum finds it
        handle.seek(store.stat().st_size // 2)
        handle.write(b"\0" * 64)
    runner = CliRunner()
    found = runner.invoke(app, ["doctor", "--json"])
    status = {c["part"]: c for c in json.loads(found.stdout)}
    assert status["keyword index"]["status"] == "broken" and store.name in status["keyword index"]["detail"]
    fixed = runner.invoke(app, ["doctor", "--repair"])
    assert "repaired" in fixed.stdout
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    assert _found(settings, "artemis accords")


def test_whole_article_search_filters_and_best_chunk(sample_settings):
    from ingest.keyword_engine import Filter
    from ingest.keyword_index import KeywordIndex, article_of

    keyword = KeywordIndex(sample_settings.keyword_dir)
    [(article_id, score)] = keyword.search_articles("artemis accords lithuania", 1)
    assert score > 0
    best = keyword.best_chunk("lithuania", article_id)
    assert article_of(best) == article_id and "Lithuania" in keyword.table.columns["text"][best]
    hits = keyword.search("space", 50)
    sources = {keyword.table.columns["source"][c] for c, _ in hits}
    assert len(sources) > 1
    one = sorted(sources)[0]
    kept = keyword.search("space", 50, filters=Filter(source=one))
    assert kept and {keyword.table.columns["source"][c] for c, _ in kept} == {one}
    assert keyword.search("space", 50, filters=Filter(until=0)) == []  # nothing published before 1970
