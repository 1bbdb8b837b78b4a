"""Scoring: article-level retrieval metrics (via ir_measures), answer checks, latency, id aliases."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping

# Our metric name -> ir_measures measure. Success@k is hit rate, R@k recall,
# RR@10 reciprocal rank of the first relevant document, nDCG@10 with the
# qrels' gains (all 1 here, so binary).
RETRIEVAL_MEASURES: dict[str, str] = {
    "hit@1": "Success@1",
    "hit@3": "Success@3",
    "hit@5": "Success@5",
    "hit@10": "Success@10",
    "recall@5": "R@5",
    "recall@10": "R@10",
    "mrr@10": "RR@10",
    "ndcg@10": "nDCG@10",
}


def per_query_retrieval(
    qrels: Mapping[str, Iterable[str]], runs: Mapping[str, list[str]]
) -> dict[str, dict[str, float]]:
    """Score each question of `qrels` that has a relevant document; return {qid: {metric: value}}.

    `qrels` maps a question id to its relevant article ids, `runs` to the
    article ids retrieved for it, best first. A question missing from `runs`,
    or with an empty run, scores 0 on every metric. Run scores are built from
    rank (1/rank) so ir_measures ranks documents in the given order: on tied
    scores its pytrec_eval provider (Success, R, nDCG) orders doc ids
    descending and its msmarco provider (RR@10) ascending.
    """
    import ir_measures

    relevant = {qid: dict.fromkeys(docs, 1) for qid, docs in qrels.items()}
    relevant = {qid: docs for qid, docs in relevant.items() if docs}
    measures = {ir_measures.parse_measure(m): name for name, m in RETRIEVAL_MEASURES.items()}
    scores = {qid: dict.fromkeys(RETRIEVAL_MEASURES, 0.0) for qid in relevant}

    run: dict[str, dict[str, float]] = {}
    for qid in relevant:
        ranked = dedupe(runs.get(qid) or [])
        if ranked:
            run[qid] = {doc: 1.0 / rank for rank, doc in enumerate(ranked, start=1)}
    if run:
        for metric in ir_measures.iter_calc(list(measures), relevant, run):
            if metric.query_id in scores:
                scores[metric.query_id][measures[metric.measure]] = float(metric.value)
    return scores


def retrieval_metrics(qrels: Mapping[str, Iterable[str]], runs: Mapping[str, list[str]]) -> dict[str, float | None]:
    """Mean of each retrieval metric over the questions of `qrels` with a relevant document.

    Empty or missing runs count as 0. Every value is None when no question has
    a relevant document.
    """
    return mean_metrics(per_query_retrieval(qrels, runs).values())


def mean_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float | None]:
    """Average per-question metric rows (macro average); None when there are no rows."""
    rows = list(rows)
    if not rows:
        return dict.fromkeys(RETRIEVAL_MEASURES)
    return {name: sum(r[name] for r in rows) / len(rows) for name in RETRIEVAL_MEASURES}


def dedupe(ids: Iterable[str]) -> list[str]:
    """Drop repeated and empty ids, keeping the first (best-ranked) occurrence."""
    return [i for i in dict.fromkeys(ids) if i]


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}


def normalize_text(text: str) -> str:
    """Casefold, collapse whitespace, and make typographic dashes and quotes plain ASCII."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().casefold()


def answer_contains(answer_text: str | None, expected: str) -> bool:
    """True if `expected` occurs in the answer, ignoring case and runs of whitespace."""
    if not answer_text or not expected:
        return False
    return normalize_text(expected) in normalize_text(answer_text)


def citation_precision(cited_ids: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the distinct cited articles that are relevant; None when nothing is cited."""
    cited = dedupe(cited_ids)
    if not cited:
        return None
    rel = set(relevant)
    return sum(c in rel for c in cited) / len(cited)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating linearly as numpy does; None if empty."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_percentiles(ms: Iterable[float]) -> dict[str, float | None]:
    """p50 and p95 of call latencies in milliseconds: {"p50_ms": ..., "p95_ms": ...}."""
    ms = list(ms)
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95)}


def resolve_ids(relevant: Iterable[str], known: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Map relevant ids to canonical article ids; return (resolved, unknown), order kept.

    `known` maps every alias of an article (its id, its path, its url) to its
    id. An id matches exactly, then after tidying (`./` prefix, backslashes,
    trailing `/`), then as the tail of exactly one article's path, so
    `nasa/a.md` finds `/data/corpus/nasa/a.md`.
    """
    find = resolver(known)
    resolved: list[str] = []
    unknown: list[str] = []
    for rid in relevant:
        canon = find(rid)
        (resolved if canon else unknown).append(canon or rid)
    return dedupe(resolved), dedupe(unknown)


def resolver(known: Mapping[str, str]):
    """A function mapping one id/path/url to its canonical article id, or None (see resolve_ids)."""
    tidy = {_tidy(alias): canon for alias, canon in known.items()}

    def find(rid: str) -> str | None:
        return known.get(rid) or tidy.get(_tidy(rid)) or _by_suffix(_tidy(rid), tidy)

    return find


def _tidy(alias: str) -> str:
    alias = alias.strip().replace("\\", "/")
    while alias.startswith("./"):
        alias = alias[2:]
    return alias.rstrip("/") if len(alias) > 1 else alias


def _by_suffix(rid: str, tidy: Mapping[str, str]) -> str | None:
    if not rid:
        return None
    hits = {canon for alias, canon in tidy.items() if alias.endswith("/" + rid)}
    return hits.pop() if len(hits) == 1 else None
