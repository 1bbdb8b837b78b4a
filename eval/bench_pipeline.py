"""Experiment: the reranked path end to end (`spacebot eval`'s own code) under named settings, dev and dev2.

Each setting patches module constants (`bot.core.rerank.FIRST`, ...), runs both
question sets through `eval.evaluate`, and reports hit@5, MRR@10, paraphrase
hit@5, expected answer in the answer, refusal and false refusal, and the
wordpieces the cross-encoder read per question (its cost: a call's time is
about 0.2 ms a wordpiece, a little more for short pairs, `eval/bench_latency.py --cost`):
their mean, p95 and max (p95 latency follows the tail, not the mean), split into
chunks read while reranking ("passages") and sentences, and the pairs read.
Model scores are cached in `--cache` (keyed by question and text, computed one
pair a call as the product does), so the settings after the first cost little.
`--per-question FILE` appends each question's figures, to compare settings.
`--gate` also prints the refusal-gate analysis: AUROC of the learned scores per
set, the pooled calibration, and each old rule with and without.

    PYTHONPATH=. python -m eval.bench_pipeline --data-dir INDEX [--gate]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
from pathlib import Path

import numpy as np

SETS = {"dev": "../shared/eval/dev.jsonl", "dev2": "../shared/eval/dev2.jsonl"}
R, S, G, A = "bot.core.rerank.", "bot.core.sentence_choice.", "bot.core.rerank_gate.", "bot.core.rerank_answerer."
SETTINGS: dict[str, dict] = {
    "shipped": {},
    "depth 15 read at once (no cascade)": {R + "FIRST": 0},
    "depth 10, no cascade": {R + "FIRST": 0, R + "DEPTH": 10},
    "depth 8, no cascade": {R + "FIRST": 0, R + "DEPTH": 8},
    "cascade 3 / 3": {R + "FIRST": 3},
    "cascade 5 / 4": {R + "ENOUGH": 4.0},
    "cascade 5 / 5": {R + "ENOUGH": 5.0},
    "cascade 8 / 3": {R + "FIRST": 8},
    "cascade 5 / 2": {R + "ENOUGH": 2.0},
    "fall-through read at once (no steps)": {R + "STEP": None},
    "fall-through in steps of 3": {R + "STEP": 3},
    "fall-through to depth 12": {R + "DEPTH": 12},
    "fall-through to depth 10": {R + "DEPTH": 10},
    "sentences of 5 passages": {S + "SENTENCE_PASSAGES": 5},
    "sentences of 3 passages": {S + "SENTENCE_PASSAGES": 3},
    "3 passages per article": {S + "PER_ARTICLE": 3},
    "5 passages, 3 per article": {S + "SENTENCE_PASSAGES": 5, S + "PER_ARTICLE": 3},
    "no antecedent for pronoun-led quotes": {A + "ANTECEDENT": False},
    "gate threshold -2.8": {G + "REFUSE_BELOW": -2.8},
    "gate threshold -4": {G + "REFUSE_BELOW": -4.0},
}


class ScoreCache:
    """Wraps the cross-encoder: scores from a pickle when known; counts the wordpieces each new
    (question, text) pair of a run would cost."""

    def __init__(self, model, path: Path):
        self.model, self.path = model, path
        self.scores: dict = pickle.loads(path.read_bytes()) if path.exists() else {}
        self.seen: set = set()
        self.wordpieces = 0
        self.phase = "sentences"  # "passages" while `rerank_candidates` runs (set by `counting_phases`)
        self.by_phase: dict[str, int] = {"passages": 0, "sentences": 0}
        self.pairs = 0  # model calls, one pair each (a 16-wordpiece call still takes ~5 ms: bench_latency --cost)
        self.tokenizer = model.tokenizer

    def score(self, query: str, texts: list[str], batch: int = 1) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if (query, t) not in self.scores]
        for text, value in zip(todo, self.model._score(todo, query, 1)):
            self.scores[(query, text)] = float(value)
        fresh = [t for t in dict.fromkeys(texts) if (query, t) not in self.seen]
        self.seen.update((query, t) for t in fresh)
        self.tokenizer.no_padding()
        read = sum(len(e.ids) for e in self.tokenizer.encode_batch([(query, t) for t in fresh]))
        self.tokenizer.enable_padding()
        self.wordpieces += read
        self.pairs += len(fresh)
        self.by_phase[self.phase] += read
        return np.array([self.scores[(query, t)] for t in texts], dtype=np.float32)

    def save(self) -> None:
        self.path.write_bytes(pickle.dumps(self.scores))


def counting_phases(cached: ScoreCache) -> None:
    """Wordpieces read while reranking chunks count as "passages", the rest (sentences) as "sentences"."""
    from bot.core import rerank

    plain = rerank.rerank_candidates

    def counted(*args, **kwargs):
        cached.phase = "passages"
        try:
            return plain(*args, **kwargs)
        finally:
            cached.phase = "sentences"

    rerank.rerank_candidates = counted


def open_service(data_dir: str, cache: Path):
    """An AnswerService whose cross-encoder is the cached one."""
    from bot.core import rerank
    from bot.core.service import AnswerService
    from ingest.settings import Settings

    cached = ScoreCache(rerank.load_reranker(), cache)
    rerank._loaded[rerank.reranker_dir(None)] = cached
    counting_phases(cached)
    return AnswerService(Settings(_env_file=None, SPACEBOT_DATA_DIR=data_dir)), cached


def patched(spec: dict):
    """Context manager: module constants set to `spec`'s values, restored after."""
    from contextlib import contextmanager

    @contextmanager
    def manager():
        saved = []
        for dotted, value in spec.items():
            module, name = dotted.rsplit(".", 1)
            module = importlib.import_module(module)
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        try:
            yield
        finally:
            for module, name, value in reversed(saved):
                setattr(module, name, value)

    return manager()


QUESTIONS: list[dict] = []  # per question of the last setting run (`--per-question`)


def figures(service, cached, path: str) -> dict:
    """One set through `eval.evaluate` in mode rerank: the issue's figures and the wordpieces read."""
    from eval.evaluate import evaluate
    from eval.metrics import percentile

    cached.seen, cached.wordpieces = set(), 0
    per_question: list[dict[str, int]] = []
    pairs: list[int] = []
    plain = service.answer

    def answer(*args, **kwargs):
        before, pairs_before = dict(cached.by_phase), cached.pairs
        try:
            return plain(*args, **kwargs)
        finally:
            per_question.append({k: v - before[k] for k, v in cached.by_phase.items()})
            pairs.append(cached.pairs - pairs_before)

    service.answer = answer
    try:
        result, _ = evaluate(service, path, ["rerank"], k=10)
    finally:
        del service.answer
    m, rows = result.modes["rerank"], result.details["rerank"]
    totals = [sum(q.values()) for q in per_question]
    QUESTIONS.extend(
        {"set": path, "id": r.id, "question": r.question, "refused": r.refused, "answer_ok": r.answer_ok}
        | {"hit@5": (r.metrics or {}).get("hit@5"), "mrr@10": (r.metrics or {}).get("mrr@10")}
        | {"wordpieces": sum(q.values()), "pairs": n}
        for r, q, n in zip(rows, per_question, pairs)
    )
    para = [r.metrics["hit@5"] for r in rows if r.answerable and r.kind == "paraphrase"]
    return {
        "hit@5": round(m["hit@5"], 3),
        "mrr@10": round(m["mrr@10"], 3),
        "para hit@5": round(float(np.mean(para)), 3),
        "answer": round(m["answer_contains"], 3),
        "refusal": round(m["refusal_rate"], 2),
        "false refusal": round(m["false_refusal_rate"], 3),
        "wordpieces / question": round(cached.wordpieces / len(rows)),
        "p95": round(percentile(totals, 95)),
        "max": max(totals),
        "passages mean/p95": mean_p95([q["passages"] for q in per_question]),
        "sentences mean/p95": mean_p95([q["sentences"] for q in per_question]),
        "pairs mean/p95": mean_p95(pairs),
    }


def mean_p95(values: list[int]) -> list[int]:
    """[mean, p95] of per-question wordpiece counts, rounded."""
    from eval.metrics import percentile

    return [round(float(np.mean(values))), round(percentile(values, 95))]


def run_settings(service, cached, names: list[str], per_question: str | None = None) -> dict:
    from bot.core import rerank

    out = {}
    for name in names:
        QUESTIONS.clear()
        service.retriever.rerank_depth = SETTINGS[name].get(R + "DEPTH", rerank.DEPTH)
        with patched(SETTINGS[name]):
            out[name] = {s: figures(service, cached, path) for s, path in SETS.items()}
        service.retriever.rerank_depth = rerank.DEPTH
        cached.save()
        print(name, json.dumps(out[name]), flush=True)
        if per_question:
            with open(per_question, "a") as f:
                f.writelines(json.dumps({"setting": name} | q) + "\n" for q in QUESTIONS)
    return out


def reading_signals(question: str, history: list[str], hits, cached) -> dict[str, float]:
    """Other scores tried as refusal signals, beside `support` (none is shipped: docs/BENCHMARKS.md).

    typed: best logit of a sentence holding a spaCy entity of the asked type (bot.core.entities:
    a person or organisation for who-questions, a place for where, ...) that the question lacks;
    untitled: best logit of the 3 best sentences scored without their article's title;
    articles: minus the number of articles among the 3 best sentences (one article: the answer is in one place).
    """
    from bot.core.entities import asked_type, type_sentences
    from bot.core.followup import contextual_query
    from bot.core.rerank_gate import NO_SENTENCE
    from bot.core.sentence_choice import relevance

    query = contextual_query(question, history)
    scored = sorted(relevance(query, hits, cached), key=lambda c: -c.score)
    kind = asked_type(question)
    if kind is None:
        typed = max((c.score for c in scored), default=NO_SENTENCE)
    else:
        found = type_sentences(question, [c.sentence for c in scored], kind)
        typed = max((c.score for c, t in zip(scored, found) if t.found), default=NO_SENTENCE)
    top = scored[:3]
    untitled = cached.score(query, [c.sentence for c in top]) if top else [NO_SENTENCE]
    return {"typed": typed, "untitled": float(max(untitled)), "articles": -len({c.passage.article_id for c in top})}


def gate_rows(service, cached) -> dict[str, list[dict]]:
    """Per question: answerable or not, the best passage logit, `support`, the other signals tried,
    and what each old rule says."""
    from bot.core import evidence
    from bot.core.gate import figure_refusal
    from bot.core.rerank_gate import support

    keyword = service.index.keyword
    out: dict[str, list[dict]] = {}
    for name, path in SETS.items():
        out[name] = []
        for line in Path(path).read_text().splitlines():
            q = json.loads(line)
            hits = service.search(q["question"], q["history"], k=10, mode="rerank")
            missing = evidence.weigh_evidence(q["question"], hits, keyword).missing
            acronyms = set(evidence.acronyms(q["question"], keyword))
            out[name].append(
                {
                    "answerable": bool(q["relevant"]),
                    "passage": hits[0].score,
                    "support": support(q["question"], q["history"], hits, cached),
                    "figure": figure_refusal(q["question"], hits, keyword, q["history"]) is not None,
                    "terms": any(m not in acronyms for m in missing),
                    "acronym": any(m in acronyms for m in missing),
                    **reading_signals(q["question"], q["history"], hits, cached),
                }
            )
    return out


def auroc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties half."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def rates(rows: list[dict], refuse) -> tuple[float, float]:
    """(refusal of unanswerable, false refusal of answerable)."""
    return (
        round(float(np.mean([refuse(r) for r in rows if not r["answerable"]])), 3),
        round(float(np.mean([refuse(r) for r in rows if r["answerable"]])), 3),
    )


def calibrate(rows: dict[str, list[dict]], rule) -> dict:
    """Thresholds on `support` (with `rule` also refusing): the most pooled refusals within 10% false
    refusal on each set, and the best pooled refusal minus false refusal within the same bound."""
    both = rows["dev"] + rows["dev2"]
    points = []
    for th in sorted({round(r["support"], 2) + 0.005 for r in both} | {-8.0}):
        refuse = lambda r, th=th: r["support"] < th or rule(r)  # noqa: E731
        per_set = {s: rates(rows[s], refuse) for s in rows}
        if all(fr <= 0.10 for _, fr in per_set.values()):
            points.append((th, rates(both, refuse), per_set))
    if not points:
        return {"feasible": False}
    most = max(points, key=lambda p: (p[1][0], -p[1][1]))
    best_j = max(points, key=lambda p: (p[1][0] - p[1][1], -p[0]))
    return {"most refusals": most, "best refusal - false refusal": best_j}


def gate_report(rows: dict[str, list[dict]]) -> dict:
    """AUROC per set and pooled; calibration with the figure rule alone and with each older rule added."""
    both = rows["dev"] + rows["dev2"]
    report: dict = {}
    for feature in ("passage", "support"):
        pos = {s: [r[feature] for r in rows[s] if r["answerable"]] for s in rows}
        neg = {s: [r[feature] for r in rows[s] if not r["answerable"]] for s in rows}
        report[f"AUROC {feature}"] = {s: round(auroc(pos[s], neg[s]), 2) for s in rows}
        report[f"AUROC {feature}"]["pooled"] = round(
            auroc([r[feature] for r in both if r["answerable"]], [r[feature] for r in both if not r["answerable"]]), 2
        )
    report["AUROC where the figure rule does not refuse"] = {
        feature: {
            s: round(
                auroc(
                    [r[feature] for r in rows[s] if r["answerable"] and not r["figure"]],
                    [r[feature] for r in rows[s] if not r["answerable"] and not r["figure"]],
                ),
                2,
            )
            for s in rows
        }
        for feature in ("passage", "support", "typed", "untitled", "articles")
    }
    rules = {
        "no rule": lambda r: False,
        "figure rule": lambda r: r["figure"],
        "figure + rare-term": lambda r: r["figure"] or r["terms"],
        "figure + acronym": lambda r: r["figure"] or r["acronym"],
        "figure + rare-term + acronym": lambda r: r["figure"] or r["terms"] or r["acronym"],
    }
    report["calibration"] = {name: calibrate(rows, rule) for name, rule in rules.items()}
    report["each rule alone (support >= -8)"] = {
        name: {s: rates(rows[s], lambda r, rule=rule: r["support"] < -8 or rule(r)) for s in rows}
        for name, rule in rules.items()
    }
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--cache", default="/tmp/bench_pipeline_scores.pkl")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help=f"any of: {', '.join(SETTINGS)}")
    parser.add_argument("--gate", action="store_true", help="also the refusal-gate analysis")
    parser.add_argument("--per-question", help="append each question's figures per setting to this JSON-lines file")
    args = parser.parse_args(argv)
    service, cached = open_service(args.data_dir, Path(args.cache))
    report = {"settings": run_settings(service, cached, args.settings, args.per_question)}
    if args.gate:
        report["gate"] = gate_report(gate_rows(service, cached))
        cached.save()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
