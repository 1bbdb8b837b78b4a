"""Refit the answer's confidence (Platt scaling of the reader's best logit) and show where the gate's levels fall.

    PYTHONPATH=$PWD .venv/bin/python -m eval.calibrate_reader [--questions ../shared/eval/dev.jsonl] [--write]

Data: every question of the file (dev: never dev2), answered by the default pipeline
without the gate, plus synthetic near-misses made from its lookups and paraphrases
by swapping the question's constraint (an ordinal, a year, a country) for another of
the same type that none of the retrieved passages mentions. Label: the quoted
sentences hold the expected string (unanswerable questions and near-misses: they do
not). Features: the reader's logit of the lead sentence, and whether the question asks for a typed
thing (a name, date, number) that the lead sentence lacks. The fit is logistic
regression (Newton's method, a small L2 penalty); `--write` stores it in
bot/models/reader_calibration.json under the reader's name. It prints the fit's
AUROC and the sure-answer precision/coverage and refusal figures at each level, which
is where SPACEBOT_SURE_LEVEL and SPACEBOT_ANSWER_FLOOR came from (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
L2 = 0.01  # ridge penalty on the slopes: keeps the fit finite when a feature separates the labels
SEED = 20


@dataclass
class Row:
    id: str
    kind: str
    logit: float
    missing: bool  # the question asks for a typed thing the lead sentence lacks
    off_topic: bool
    figure_rule: bool  # the old figure rule would refuse
    top: float | None = None  # the best passage's cross-encoder logit (measured as a feature, not fitted)
    text: str = ""  # the quoted sentences
    holds: bool = False


_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def swaps(question: str, rng: random.Random) -> list[tuple[str, str]]:
    """(near-miss question, the swapped-in word) for each constraint the question holds."""
    from bot.core.gazetteer import COUNTRIES

    out = []
    m = _ORDINAL.search(question)
    if m:
        new = _ordinal(int(m.group(1)) + rng.randint(3, 9))
        out.append((question[: m.start()] + new + question[m.end() :], new))
    m = _YEAR.search(question)
    if m:
        new = str(int(m.group(1)) + rng.choice([-7, -5, 4, 6]))
        out.append((question[: m.start()] + new + question[m.end() :], new))
    countries = [w for w in re.findall(r"[a-z]+", question.lower()) if w in COUNTRIES[:190]]
    if countries:
        old = countries[0]
        new = rng.choice([c for c in COUNTRIES[:190] if c != old])
        out.append((re.sub(rf"\b{old}\b", new, question, count=1, flags=re.IGNORECASE), new))
    return out


def collect(service, questions, rng: random.Random) -> list[Row]:
    """One row per question and per valid near-miss."""
    from eval.metrics import answer_contains

    rows = []
    for q in questions:
        row, hits = _row(service, q.id, q.kind, q.question, list(q.history))
        row.holds = bool(q.answerable and q.answer and row.logit is not None and answer_contains(row.text, q.answer))
        rows.append(row)
        if q.kind not in ("lookup", "paraphrase"):
            continue
        for text, new in swaps(q.question, rng):
            passages = " ".join(p.text for h in hits for p in h.passages).lower()
            if new.lower() in passages:
                continue  # the articles may well answer the swapped question
            near, _ = _row(service, f"{q.id}-near", "near-miss", text, list(q.history))
            rows.append(near)
    return [r for r in rows if r.logit is not None]


def _row(service, qid: str, kind: str, question: str, history: list[str]):
    from bot.core.answer_knobs import AnswerKnobs
    from bot.core.gate import figure_refusal
    from bot.core.reader_answerer import ReaderAnswerer, off_topic
    from bot.core.reading import load_reader, read
    from bot.core.short_answer import asks_typed
    from bot.core.stages import AnswerRequest

    hits = service.search(question, history, k=10, mode="rerank")
    reading = read(question, hits, history, load_reader(service.settings.reranker, service.settings.reader))
    knobs = AnswerKnobs.from_settings(service.settings)
    draft = ReaderAnswerer(service.index, knobs).draft(AnswerRequest(question, hits, [(h, "") for h in history]))
    if reading.best is None or draft is None:
        return Row(qid, kind, None, False, True, True), hits
    text = " ".join(c.sentence or "" for c in draft.claims)
    figure = figure_refusal(question, hits, service.index.keyword, history) is not None
    missing = asks_typed(question) and draft.short_answer is None
    lead = draft.claims[0].score  # the lead sentence's reader logit (the answerer's `ranked`)
    row = Row(qid, kind, lead, missing, off_topic(reading, knobs), figure, text=text, top=reading.top_passage)
    return row, hits


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> np.ndarray:
    """Logistic regression weights (slopes..., intercept) by Newton's method."""
    X = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(X.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w)))
        grad = X.T @ (p - y) + penalty @ w
        hess = X.T @ (X * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def auroc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def features(rows: list[Row]) -> np.ndarray:
    return np.array([[r.logit, float(r.missing)] for r in rows])


def report(rows: list[Row], conf: np.ndarray) -> None:
    """Sure precision/coverage and refusal figures at each level."""
    from eval.runner import expected_calibration_error

    answerable = [i for i, r in enumerate(rows) if r.kind not in ("unanswerable", "near-miss")]
    unanswerable = [i for i, r in enumerate(rows) if r.kind == "unanswerable"]
    near = [i for i, r in enumerate(rows) if r.kind == "near-miss"]
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable, {len(near)} near-misses")
    print(f"AUROC holds-fact: logit {auroc([r.logit for r in rows], [r.holds for r in rows]):.3f}, ", end="")
    print(f"confidence {auroc(list(conf), [r.holds for r in rows]):.3f}")
    dev = answerable + unanswerable
    print(f"ECE (dev) {expected_calibration_error([(conf[i], rows[i].holds) for i in dev]):.3f}")
    print("level  sure prec  sure cov  | refused: unans  near  answerable(false)")
    for level in [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]:
        sure = [i for i in dev if conf[i] >= level and not rows[i].off_topic]
        prec = sum(rows[i].holds for i in sure) / len(sure) if sure else float("nan")
        cov = sum(conf[i] >= level and not rows[i].off_topic for i in answerable) / len(answerable)

        def refused(ids, level=level):
            return sum(conf[i] < level or rows[i].off_topic for i in ids) / max(1, len(ids))

        print(
            f"{level:5.2f}  {prec:9.3f}  {cov:8.3f}  | {refused(unanswerable):14.3f}  {refused(near):4.3f}  "
            f"{refused(answerable):.3f}"
        )
    fig = [i for i in dev if rows[i].figure_rule]
    print(
        f"figure rule refuses {sum(rows[i].kind == 'unanswerable' for i in fig)} unanswerable, "
        f"{sum(rows[i].kind == 'near-miss' for i in [j for j, r in enumerate(rows) if r.figure_rule])} near-misses, "
        f"{sum(i in answerable for i in fig)} answerable ({sum(rows[i].holds for i in fig)} of them held the fact)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--write", action="store_true", help="store the fit in bot/models/reader_calibration.json")
    parser.add_argument("--dump", help="write the rows as JSON here")
    args = parser.parse_args(argv)
    if "dev2" in Path(args.questions).name:
        raise SystemExit("dev2 is the confirmation set: calibrate on dev (and synthetic data) only")
    from bot.core.calibration import CALIBRATION_FILE
    from bot.core.reading import load_reader
    from bot.core.service import AnswerService
    from eval.questions import load_questions
    from ingest.settings import Settings

    service = AnswerService(Settings())
    questions, warnings = load_questions(args.questions)
    rows = collect(service, questions, random.Random(SEED))
    x, y = features(rows), np.array([float(r.holds) for r in rows])
    w = fit(x, y)
    conf = 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ w)))
    report(rows, conf)
    name = getattr(load_reader(service.settings.reranker, service.settings.reader), "name", "cross-encoder")
    entry = {"a": round(float(w[0]), 4), "c": round(float(w[1]), 4), "b": round(float(w[2]), 4)}
    print(f"reader {name}: {entry}")
    if args.dump:
        Path(args.dump).write_text(json.dumps([r.__dict__ for r in rows], indent=1, default=str))
    if args.write:
        data = json.loads(CALIBRATION_FILE.read_text()) if CALIBRATION_FILE.exists() else {"readers": {}}
        entry["fitted_on"] = f"{Path(args.questions).name} + {sum(r.kind == 'near-miss' for r in rows)} near-misses"
        model = getattr(load_reader(service.settings.reranker, service.settings.reader), "model_path", None)
        if model is not None:  # the trained reader: a retrained model must be recalibrated (a test checks)
            import hashlib

            entry["model_sha256"] = hashlib.sha256(Path(model).read_bytes()).hexdigest()
        data["readers"][name] = entry
        CALIBRATION_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
