"""Retrieval and answer metrics in eval.metrics, checked against values worked out by hand."""

import math

import pytest

from eval.metrics import (
    answer_contains,
    citation_precision,
    latency_percentiles,
    per_query_retrieval,
    resolve_ids,
    retrieval_metrics,
)

# Four answerable questions and one unanswerable one (no relevant docs: ignored).
QRELS = {
    "q1": ["a"],  # run has it at rank 1: every relevant doc at the top
    "q2": ["b", "c"],  # ranks 3 and 10
    "q3": ["d"],  # empty run: no hits at all
    "q4": ["e", "f", "g"],  # ranks 2 and 6, g never retrieved
    "q5": [],  # unanswerable
}
RUNS = {
    "q1": ["a", "x", "y"],
    "q2": ["x", "y", "b", "z", "w", "v", "u", "t", "s", "c", "r"],
    "q3": [],
    "q4": ["x", "e", "y", "z", "q", "f"],
    "q5": ["a", "b"],
}


def log2(n):
    return math.log2(n)


# nDCG@10 by hand: DCG = sum over relevant ranks i of 1/log2(i+1), IDCG the same
# for ranks 1..min(|R|, 10).
NDCG_Q2 = (1 / log2(4) + 1 / log2(11)) / (1 + 1 / log2(3))
NDCG_Q4 = (1 / log2(3) + 1 / log2(7)) / (1 + 1 / log2(3) + 1 / log2(4))


def test_retrieval_metrics_match_hand_computed_values():
    m = retrieval_metrics(QRELS, RUNS)
    # hit@1: only q1 has a relevant doc at rank 1.
    assert m["hit@1"] == pytest.approx((1 + 0 + 0 + 0) / 4)
    # hit@3: q1 (rank 1), q2 (rank 3), q4 (rank 2); q3 nothing.
    assert m["hit@3"] == pytest.approx((1 + 1 + 0 + 1) / 4)
    assert m["hit@5"] == pytest.approx(3 / 4)
    assert m["hit@10"] == pytest.approx(3 / 4)
    # recall@5: q1 1/1, q2 1/2 (b), q3 0, q4 1/3 (e).
    assert m["recall@5"] == pytest.approx((1 + 1 / 2 + 0 + 1 / 3) / 4)
    # recall@10: q2 gets c at rank 10, q4 gets f at rank 6.
    assert m["recall@10"] == pytest.approx((1 + 1 + 0 + 2 / 3) / 4)
    # mrr@10: first relevant at ranks 1, 3, none, 2.
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert m["ndcg@10"] == pytest.approx((1 + NDCG_Q2 + 0 + NDCG_Q4) / 4)


def test_per_query_covers_answerable_questions_only():
    per = per_query_retrieval(QRELS, RUNS)
    assert sorted(per) == ["q1", "q2", "q3", "q4"]
    assert per["q1"] == {k: 1.0 for k in per["q1"]}
    assert per["q3"] == {k: 0.0 for k in per["q3"]}
    assert per["q2"]["ndcg@10"] == pytest.approx(NDCG_Q2)


def test_question_missing_from_runs_counts_as_zero():
    runs = {k: v for k, v in RUNS.items() if k != "q3"}
    assert retrieval_metrics(QRELS, runs)["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    # All runs empty: every question still averaged in, as 0.
    assert retrieval_metrics(QRELS, {}) == {k: 0.0 for k in retrieval_metrics(QRELS, {})}


def test_no_answerable_questions_gives_none():
    assert set(retrieval_metrics({"q": []}, {"q": ["a"]}).values()) == {None}


def test_list_order_is_the_ranking_not_doc_id_order():
    # With tied scores, ir_measures' pytrec_eval provider (Success, R, nDCG)
    # ranks doc ids descending and its msmarco provider (RR@10) ascending, so
    # each case below would go wrong for one of them.
    m = retrieval_metrics({"q": ["a"]}, {"q": ["a", "z"]})
    assert (m["hit@1"], m["mrr@10"]) == (1.0, 1.0)
    m = retrieval_metrics({"q": ["z"]}, {"q": ["a", "z"]})
    assert (m["hit@1"], m["mrr@10"]) == (0.0, 0.5)


def test_repeated_ids_keep_their_best_rank():
    # ["x", "a", "x", "b"] is ["x", "a", "b"]: b is at rank 3, not 4.
    m = retrieval_metrics({"q": ["b"]}, {"q": ["x", "a", "x", "b"]})
    assert m["mrr@10"] == pytest.approx(1 / 3)


def test_ndcg_ideal_is_capped_at_ten_relevant_docs():
    relevant = [f"d{i}" for i in range(12)]
    m = retrieval_metrics({"q": relevant}, {"q": relevant[:10]})
    assert m["ndcg@10"] == pytest.approx(1.0)
    assert m["recall@10"] == pytest.approx(10 / 12)
    assert m["recall@5"] == pytest.approx(5 / 12)


def test_answer_contains_ignores_case_and_whitespace():
    assert answer_contains("The 40th signatory was   LITHUANIA [1].", "Lithuania")
    assert answer_contains("no national\n  appropriation by claim", "national appropriation")
    assert answer_contains("the Luna\u2011Resurs missions", "Luna-Resurs")  # non-breaking hyphen
    assert not answer_contains("Latvia", "Lithuania")
    assert not answer_contains(None, "Lithuania")
    assert not answer_contains("", "Lithuania")


def test_citation_precision():
    assert citation_precision(["a", "b", "a"], ["a"]) == 0.5  # distinct citations: a, b
    assert citation_precision(["a"], ["a", "c"]) == 1.0
    assert citation_precision(["a"], []) == 0.0
    assert citation_precision([], ["a"]) is None


def test_latency_percentiles_interpolate_linearly():
    # p95 position = 0.95 * (5 - 1) = 3.8: 40 + 0.8 * (50 - 40) = 48.
    assert latency_percentiles([50, 10, 30, 20, 40]) == {"p50_ms": 30, "p95_ms": pytest.approx(48)}
    assert latency_percentiles([7]) == {"p50_ms": 7, "p95_ms": 7}
    assert latency_percentiles([]) == {"p50_ms": None, "p95_ms": None}


KNOWN = {
    "nasa-35": "nasa-35",
    "nasa/nasa_article_35.md": "nasa-35",
    "https://www.nasa.gov/news-release/lithuania/": "nasa-35",
    "wh-1": "wh-1",
    "/data/corpus/whitehouse/fact-sheet.md": "wh-1",
}


def test_resolve_ids_by_id_path_or_url_and_names_unknown_ids():
    resolved, unknown = resolve_ids(
        ["nasa/nasa_article_35.md", "nasa-35", "https://www.nasa.gov/news-release/lithuania", "nasa/missing.md"],
        KNOWN,
    )
    assert resolved == ["nasa-35"]
    assert unknown == ["nasa/missing.md"]


def test_resolve_ids_matches_a_unique_path_tail():
    assert resolve_ids(["whitehouse/fact-sheet.md", "./wh-1"], KNOWN) == (["wh-1"], [])
    # A tail shared by two articles is ambiguous, so unknown.
    known = {"/a/x/doc.md": "A", "/b/x/doc.md": "B"}
    assert resolve_ids(["x/doc.md"], known) == ([], ["x/doc.md"])


def _by_definition(relevant, run):
    """The README's metric definitions, written out, for cross-checking ir_measures."""
    rel, top = set(relevant), run[:10]
    ranks = [i for i, d in enumerate(top, 1) if d in rel]
    dcg = sum(1 / log2(r + 1) for r in ranks)
    idcg = sum(1 / log2(i + 1) for i in range(1, min(len(rel), 10) + 1))
    out = {f"hit@{k}": float(bool(rel & set(run[:k]))) for k in (1, 3, 5, 10)}
    out |= {f"recall@{k}": len(rel & set(run[:k])) / len(rel) for k in (5, 10)}
    return out | {"mrr@10": 1 / ranks[0] if ranks else 0.0, "ndcg@10": dcg / idcg}


def test_ir_measures_agrees_with_the_readme_definitions_on_random_runs():
    import random

    rng = random.Random(7)
    qrels, runs = {}, {}
    for i in range(200):
        relevant = [f"r{j}" for j in range(rng.randint(1, 12))]
        qrels[f"q{i}"] = relevant
        runs[f"q{i}"] = rng.sample(relevant + [f"n{j}" for j in range(15)], rng.randint(0, 14))
    per = per_query_retrieval(qrels, runs)
    for qid, row in per.items():
        assert row == pytest.approx(_by_definition(qrels[qid], runs[qid])), qid
