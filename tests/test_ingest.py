"""Ingestion on the sample corpus with the real model and real embedded Chroma."""

from __future__ import annotations

import shutil

from conftest import SAMPLE, make_settings


def _store(settings):
    from ingest.store import ChunkStore

    return ChunkStore(settings, create=False)


def _records(settings):
    return list(_store(settings).iter_records(["metadatas", "documents"]))


def assert_index_consistent(settings):
    """Every article whole, every chunk once, and BM25 holding exactly the same chunks."""
    from ingest.keyword_index import KeywordIndex

    records = _records(settings)
    ids = [r[0] for r in records]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    states = _store(settings).article_states()
    broken = [aid for aid, st in states.items() if not st.complete]
    assert not broken, f"incomplete articles: {broken[:5]}"
    keyword = KeywordIndex(settings.keyword_dir)
    assert sorted(keyword.table.columns["id"]) == sorted(ids)
    return states


def test_sample_corpus_ingests_every_format_without_failures(sample_settings):
    states = assert_index_consistent(sample_settings)
    assert len(states) == 24
    records = _records(sample_settings)
    paths = {meta.get("path") for _, meta, _ in records}
    assert any(p and p.endswith(".md") and "/" in p for p in paths)
    assert any(p and p.endswith(".html") for p in paths)
    article_ids = set(states)
    assert any(aid.startswith("wire/briefs.jsonl#") for aid in article_ids)
    assert any(aid.startswith("https://") for aid in article_ids), "feed items are keyed by link"


def test_rerun_over_unchanged_inputs_embeds_nothing(sample_settings):
    from ingest.pipeline import run_ingest

    summary = run_ingest([str(SAMPLE)], sample_settings)
    assert (summary.new, summary.changed, summary.chunks) == (0, 0, 0)
    assert summary.unchanged == 24


def test_front_matter_and_markup_never_reach_the_text(sample_settings):
    for _, meta, doc in _records(sample_settings):
        assert not doc.lstrip().startswith("---"), meta["article_id"]
        assert "source_url:" not in doc
        assert "<span" not in doc and "&amp;" not in doc and "&nbsp;" not in doc
        assert meta["title"] and "\n" not in meta["title"]


def test_markdown_front_matter_supplies_date_url_and_source(sample_settings):
    metas = [m for _, m, _ in _records(sample_settings) if m.get("path", "").endswith(".md")]
    with_dates = [m for m in metas if m.get("published")]
    assert with_dates, "front matter dates were not read"
    assert all(isinstance(m["published_ts"], int) for m in with_dates)
    assert any(m.get("url", "").startswith("https://") for m in metas)
    assert all(m["source"] for m in metas)


def test_chunks_carry_the_title_fit_the_model_and_have_stable_ids(embedder):
    from ingest.article import Article
    from ingest.chunking import Chunker
    from ingest.model_files import count_tokens, model_dir

    text = " ".join(f"Sentence number {i} says the Artemis Accords now have {i} signatories." for i in range(200))
    article = Article(
        id="x/long.md", title="A long article about the Artemis Accords", text=text, source="x", origin="/tmp/x"
    )
    chunker = Chunker(model_dir(), 192, 32)
    first, second = chunker.chunk(article), chunker.chunk(article)
    assert [c.id for c in first] == [f"x/long.md::{i}" for i in range(len(first))]
    assert [c.id for c in first] == [c.id for c in second]
    assert len(first) > 5
    assert all(c.embed_text.startswith(article.title + "\n") for c in first)
    assert max(count_tokens(model_dir(), c.embed_text) for c in first) <= 254
    # consecutive chunks overlap
    assert first[0].text.split()[-1] in first[1].text


def _copy_sample(tmp_path):
    folder = tmp_path / "news"
    shutil.copytree(SAMPLE, folder)
    return folder


def test_changed_article_replaces_all_its_chunks_and_prune_removes_deleted(tmp_path):
    from ingest.pipeline import run_ingest

    folder = _copy_sample(tmp_path)
    settings = make_settings(tmp_path / "data")
    first = run_ingest([str(folder)], settings)
    assert first.new == 24 and not first.failed

    target = sorted(folder.rglob("*.txt"))[0]
    rel = target.relative_to(folder).as_posix()
    before = _store(settings).article_states()[rel]
    target.write_text(
        "Short replacement headline\n\nThe article was rewritten into one short paragraph about lunar cooperation.\n",
        encoding="utf-8",
    )
    victim = sorted(folder.rglob("*.md"))[0]
    victim_rel = victim.relative_to(folder).as_posix()
    victim.unlink()

    second = run_ingest([str(folder)], settings)
    assert (second.new, second.changed, second.unchanged, second.removed) == (0, 1, 22, 0)
    after = _store(settings).article_states()[rel]
    assert after.n_chunks == 1 and before.hash != after.hash
    docs = [d for cid, _, d in _records(settings) if cid.startswith(rel + "::")]
    assert len(docs) == 1 and "rewritten into one short paragraph" in docs[0]
    assert victim_rel in _store(settings).article_states(), "without --prune nothing is removed"

    broken = sorted(folder.rglob("*.md"))[0]  # a file that turns unreadable is not "gone"
    broken_rel = broken.relative_to(folder).as_posix()
    broken.write_bytes(b"\xff\xfe not utf-8")
    third = run_ingest([str(folder)], settings, prune=True)
    assert third.removed == 1 and victim_rel not in _store(settings).article_states()
    assert [e.input for e in third.failed] == [str(broken)]
    assert broken_rel in _store(settings).article_states(), "a failed read must not prune the old copy"
    assert_index_consistent(settings)


def test_changing_chunk_settings_re_embeds(tmp_path):
    from ingest.pipeline import run_ingest

    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.txt").write_text("Title here\n\n" + "The lunar station plan grows. " * 80)
    settings = make_settings(tmp_path / "data")
    run_ingest([str(folder)], settings)
    resized = make_settings(tmp_path / "data", SPACEBOT_CHUNK_SIZE=96)
    summary = run_ingest([str(folder)], resized)
    assert summary.changed == 1
    assert_index_consistent(resized)


def test_a_collection_made_with_chromas_default_search_breadth_is_widened(tmp_path):
    """Chroma's default HNSW breadth missed 7% of the 100 nearest chunks, differently each run."""
    from ingest.store import SEARCH_EF, ChunkStore, _client

    settings = make_settings(tmp_path)
    _client(settings).create_collection(
        settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    assert ChunkStore(settings, create=False).collection.configuration_json["hnsw"]["ef_search"] < SEARCH_EF
    assert ChunkStore(settings).collection.configuration_json["hnsw"]["ef_search"] == SEARCH_EF  # ingest opens it so
    assert ChunkStore(settings, create=False).collection.configuration_json["hnsw"]["ef_search"] == SEARCH_EF
