"""Run every question through each retrieval mode and score the results."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from bot.core.records import Answer, ArticleHit
from eval.metrics import (
    answer_contains,
    citation_precision,
    dedupe,
    latency_percentiles,
    mean_metrics,
    per_query_retrieval,
)
from eval.questions import Question

# ask(question, mode, k) -> (ranked article hits, answer). It gives the retriever
# the question together with its history, as the bot would.
Ask = Callable[[Question, str, int], tuple[list[ArticleHit], Answer | None]]


@dataclass
class QuestionResult:
    """What one mode did with one question, and how it scored."""

    id: str
    kind: str
    mode: str
    question: str
    answerable: bool
    relevant: list[str]
    expected: str | None  # the string a correct answer must contain
    retrieved: list[str]  # distinct article ids, best first, at most k
    ms: float
    answer: str | None = None  # None when `ask` gave no Answer
    refused: bool | None = None
    cited: list[str] = field(default_factory=list)
    metrics: dict[str, float] | None = None  # retrieval metrics; None if unanswerable
    answer_ok: bool | None = None  # expected string found in a non-refused answer
    citation_precision: float | None = None
    short_answer: str | None = None  # the answer's short answer (a name, date, number)
    confidence: float | None = None  # the answer's calibrated confidence (0-1)
    sure: bool | None = None  # answered at or above the sure level
    short_ok: bool | None = None  # expected string found in the short answer of a non-refused answer
    shape: str | None = None  # the answer's shape: fact, list, timeline, outlets (bot.core.shapes)
    expected_items: list[str] = field(default_factory=list)
    item_recall: float | None = None  # share of `expected_items` the (non-refused) answer names

    @property
    def problems(self) -> list[str]:
        """Short labels for what went wrong: "retrieval miss", "wrong answer", ... (empty if nothing)."""
        out = []
        if self.answerable:
            if self.metrics is not None and self.metrics["hit@10"] == 0:
                out.append("retrieval miss")
            if self.refused:
                out.append("false refusal")
            elif self.answer_ok is False:
                out.append("wrong answer")
        elif self.refused is False:
            out.append("answered unanswerable")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalResult:
    """Scores per mode (`modes`, the results.json content) and per-question `details` per mode."""

    modes: dict[str, dict]
    details: dict[str, list[QuestionResult]]
    k: int = 10

    def to_json(self) -> dict:
        """The results.json shape: {"modes": {mode: {metric: value, "per_kind": {...}, ...}},
        "default": the mode `spacebot ask` uses}."""
        from bot.core.service import DEFAULT_MODE

        return {"modes": copy.deepcopy(self.modes), "default": DEFAULT_MODE}


def run_eval(
    questions: Sequence[Question],
    modes: Sequence[str],
    ask: Ask,
    k: int = 10,
    progress: Callable[[int], object] | None = None,
) -> EvalResult:
    """Ask every question in every mode, time each call, and score the answers.

    Retrieval metrics cover answerable questions only; `progress(1)` is called
    after each of the len(modes) * len(questions) calls. An exception from
    `ask` stops the run, re-raised as RuntimeError naming the mode and question.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not modes:
        raise ValueError("no modes to evaluate")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate question ids: {', '.join(dupes)}")

    summaries: dict[str, dict] = {}
    details: dict[str, list[QuestionResult]] = {}
    for mode in dict.fromkeys(modes):
        rows = []
        for q in questions:
            rows.append(_ask_one(ask, q, mode, k))
            if progress is not None:
                progress(1)
        scores = per_query_retrieval(
            {r.id: r.relevant for r in rows if r.answerable}, {r.id: r.retrieved for r in rows}
        )
        for r in rows:
            r.metrics = scores.get(r.id)
        details[mode] = rows
        summaries[mode] = summarize(rows)
    return EvalResult(modes=summaries, details=details, k=k)


def _ask_one(ask: Ask, q: Question, mode: str, k: int) -> QuestionResult:
    """Call `ask` once, timed, and record what came back."""
    start = time.perf_counter()
    try:
        hits, answer = ask(q, mode, k)
    except Exception as e:
        raise RuntimeError(f"ask failed in mode {mode!r} on {q.id}: {e}") from e
    ms = (time.perf_counter() - start) * 1000
    row = QuestionResult(
        id=q.id,
        kind=q.kind,
        mode=mode,
        question=q.question,
        answerable=q.answerable,
        relevant=list(q.relevant),
        expected=q.answer,
        retrieved=dedupe(h.article_id for h in hits)[:k],
        ms=ms,
        expected_items=list(q.items),
    )
    if answer is not None:
        row.answer = answer.text
        row.refused = bool(answer.refused)
        row.cited = dedupe(c.article_id for c in answer.citations)
        row.shape = answer.shape
        if q.items:
            found = [not answer.refused and answer_contains(answer.text, item) for item in q.items]
            row.item_recall = sum(found) / len(found)
        if not answer.refused:
            row.citation_precision = citation_precision(row.cited, q.relevant)
        row.short_answer, row.confidence = answer.short_answer, answer.confidence
        row.sure = bool(answer.sure) and not answer.refused
        if q.answerable and q.answer is not None:
            row.answer_ok = not answer.refused and answer_contains(answer.text, q.answer)
            row.short_ok = not answer.refused and answer_contains(answer.short_answer, q.answer)
    return row


def summarize(rows: Sequence[QuestionResult]) -> dict:
    """One mode's scores from its per-question rows (retrieval metrics must be filled in).

    - retrieval metrics and `per_kind`: mean over answerable questions (with each kind's answer_contains);
    - `per_shape`: per answer shape (fact, list, timeline, outlets): n, answer_contains, item_recall
      (share of a question's expected `items` the answer names), p50/p95 ms;
    - answer_contains: share of answerable questions with an expected answer
      whose answer was given (not refused) and contains it;
    - citation_precision: mean over answered (not refused) questions that cite
      something; citations on an unanswerable question are all irrelevant;
    - refusal_rate on unanswerable, false_refusal_rate on answerable questions.
    Rates are None when they have no questions to average over.
    """
    answerable = [r for r in rows if r.answerable]
    with_answer = [r for r in rows if r.refused is not None]
    out: dict = dict(mean_metrics(r.metrics for r in answerable))
    out["answer_contains"] = _mean(r.answer_ok for r in with_answer if r.answer_ok is not None)
    out["citation_precision"] = _mean(r.citation_precision for r in with_answer if r.citation_precision is not None)
    out["refusal_rate"] = _mean(r.refused for r in with_answer if not r.answerable)
    out["false_refusal_rate"] = _mean(r.refused for r in with_answer if r.answerable)
    out.update(confidence_metrics(rows))
    out.update(latency_percentiles(r.ms for r in rows))
    out["per_kind"] = {
        kind: {
            **mean_metrics(r.metrics for r in answerable if r.kind == kind),
            "answer_contains": _mean(r.answer_ok for r in answerable if r.kind == kind and r.answer_ok is not None),
            "n": sum(r.kind == kind for r in answerable),
        }
        for kind in dict.fromkeys(r.kind for r in answerable)
    }
    out["per_shape"] = {shape: _shape_summary([r for r in rows if r.shape == shape]) for shape in _shapes(rows)}
    out["n_questions"] = len(rows)
    out["n_answerable"] = len(answerable)
    return out


SHORT_KINDS = ("lookup", "paraphrase")  # the kinds a short answer is scored on (single facts)
ECE_BINS = 10


def confidence_metrics(rows: Sequence[QuestionResult]) -> dict:
    """How far the answer's confidence can be trusted (None where no answer carried one):

    - short_answer_ok: share of answerable lookups and paraphrases whose short answer holds the fact;
    - sure_precision: share of sure answers that hold the fact (a sure answer to an unanswerable
      question holds none); sure_coverage: share of answerable questions (with an expected fact)
      answered sure;
    - ece: expected calibration error of `confidence` against "the answer holds the fact" (refusals and
      unanswerable questions: it does not), over ECE_BINS equal-width bins;
    - refusal_or_unsure_rate: share of unanswerable questions refused or answered unsure.
    """
    scored = [r for r in rows if r.confidence is not None and (not r.answerable or r.answer_ok is not None)]
    if not scored:
        return dict.fromkeys(["short_answer_ok", "sure_precision", "sure_coverage", "ece", "refusal_or_unsure_rate"])
    holds = {r.id: bool(r.answerable and r.answer_ok) for r in scored}
    sure = [r for r in scored if r.sure]
    answerable = [r for r in scored if r.answerable]
    short = [r for r in answerable if r.kind in SHORT_KINDS and r.short_ok is not None]
    unanswerable = [r for r in scored if not r.answerable]
    return {
        "short_answer_ok": _mean(r.short_ok for r in short),
        "sure_precision": _mean(holds[r.id] for r in sure),
        "sure_coverage": _mean(bool(r.sure) for r in answerable),
        "ece": expected_calibration_error([(r.confidence, holds[r.id]) for r in scored]),
        "refusal_or_unsure_rate": _mean(bool(r.refused) or not r.sure for r in unanswerable),
    }


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = ECE_BINS) -> float | None:
    """Sum over equal-width confidence bins of (share of pairs in the bin) x |mean confidence - share right|."""
    if not pairs:
        return None
    total = 0.0
    for b in range(bins):
        inside = [(c, ok) for c, ok in pairs if min(int(c * bins), bins - 1) == b]
        if inside:
            gap = sum(c for c, _ in inside) / len(inside) - sum(ok for _, ok in inside) / len(inside)
            total += len(inside) / len(pairs) * abs(gap)
    return total


def _shapes(rows: Sequence[QuestionResult]) -> list[str]:
    return list(dict.fromkeys(r.shape for r in rows if r.shape is not None))


def _shape_summary(rows: Sequence[QuestionResult]) -> dict:
    """Answers of one shape: how many, expected string found, expected items named, latency."""
    return {
        "n": len(rows),
        "answer_contains": _mean(r.answer_ok for r in rows if r.answer_ok is not None),
        "item_recall": _mean(r.item_recall for r in rows if r.item_recall is not None),
        **latency_percentiles(r.ms for r in rows),
    }


def _mean(values: Iterable[float | bool]) -> float | None:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None
