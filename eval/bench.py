"""`make bench`: the full corpus index (cached), every retrieval mode on the dev set, speed.

Writes the quality table, the follow-up comparison, answer/refusal rates and
warm/cold timings into docs/BENCHMARKS.md, with the chart in docs/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from eval.benchdoc import replace_section, stamp

MODES = ["dense", "bm25", "hybrid", "rerank"]
METRICS = ["hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10"]


def _run(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, result


def _followup_gain(service, questions) -> tuple[float, float, int]:
    """hit@5 of follow-ups asked bare vs with their history (the chat's way)."""
    followups = [q for q in questions if q.history and q.relevant]
    bare = with_history = 0
    for q in followups:
        relevant = set(q.relevant)
        bare += any(h.article_id in relevant for h in service.search(q.question, [], k=5))
        with_history += any(h.article_id in relevant for h in service.search(q.question, q.history, k=5))
    n = max(len(followups), 1)
    return bare / n, with_history / n, len(followups)


def _side_by_side(results: dict) -> list[str]:
    """Each mode on each question set, one row per (mode, set): the issue's targets side by side."""
    lines = [
        "| mode | set | hit@5 | MRR@10 | paraphrase hit@5 | answer contains | refusal | false refusal | "
        "warm p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        for name, result in results.items():
            v = result.to_json()["modes"][mode]
            para = v["per_kind"].get("paraphrase", {}).get("hit@5", float("nan"))
            lines.append(
                f"| {mode} | {name} | {v['hit@5']:.3f} | {v['mrr@10']:.3f} | {para:.3f} | "
                f"{v['answer_contains'] or 0:.2f} | {v['refusal_rate'] or 0:.2f} | "
                f"{v['false_refusal_rate'] or 0:.2f} | {v['p50_ms']:.0f} / {v['p95_ms']:.0f} |"
            )
    lines += [
        "",
        "Targets (issue 10, both sets): hit@5 >= 0.92, MRR@10 >= 0.80, paraphrase hit@5 >= 0.85, "
        "answer contains >= 0.70, refusal >= 0.80 with false refusal <= 0.10, warm p50 <= 400 ms, "
        "p95 <= 800 ms.",
    ]
    return lines


def _quality_section(
    args,
    summary: dict,
    result_eval,
    questions,
    followups: tuple[float, float, int],
    cold: list[float],
    helps: list[float],
    side_by_side: list[str] | None = None,
) -> str:
    """The "Retrieval, answers and speed" section of docs/BENCHMARKS.md."""
    bare, with_history, n_followups = followups
    modes = result_eval.to_json()["modes"]

    def row(mode: str) -> str:
        values = modes[mode]
        return (
            f"| {mode} | "
            + " | ".join(f"{values[m]:.3f}" for m in METRICS)
            + f" | {values['per_kind'].get('followup', {}).get('hit@5', float('nan')):.3f} |"
        )

    from bot.core.service import DEFAULT_MODE

    default = modes[DEFAULT_MODE]  # the mode `ask` uses
    given = [r for r in result_eval.details[DEFAULT_MODE] if r.answerable and r.refused is False and r.expected]
    contains_given = sum(bool(r.answer_ok) for r in given) / max(len(given), 1)
    headline = (
        f"{DEFAULT_MODE} retrieval (the default) on the dev set: hit@5 {default['hit@5']:.3f}, "
        f"MRR@10 {default['mrr@10']:.3f}; "
        f"answers given contain the expected string {contains_given:.0%} of the time; "
        f"warm answer p50 {default['p50_ms']:.0f} ms, cold `spacebot ask` {statistics.median(cold):.1f} s"
    )
    return "\n".join(
        [
            "## Retrieval, answers and speed",
            "",
            stamp("make bench"),
            "",
            f"Index: {summary['total_articles']:,} articles, {summary['total_chunks']:,} chunks "
            f"(`{args.corpus}`); questions: `{args.questions}` "
            f"({sum(1 for q in questions if q.relevant)} answerable, {sum(1 for q in questions if not q.relevant)} "
            "unanswerable). Article level, answerable questions; follow-ups asked with their history.",
            "",
            f"**Headline:** {headline}.",
            "",
            "| mode | " + " | ".join(METRICS) + " | follow-up hit@5 |",
            "|---|" + "---|" * (len(METRICS) + 1),
            *[row(m) for m in MODES],
            "",
            "Targets (issue 10): hit@5 >= 0.92, MRR@10 >= 0.80; follow-ups hit@5 >= 0.80 (issue 3).",
            "",
            f"Follow-ups ({n_followups}), {DEFAULT_MODE} hit@5: bare question {bare:.3f} -> with the earlier turns' "
            f"key terms {with_history:.3f}.",
            "",
            *(["### dev and dev2 side by side", "", *side_by_side, ""] if side_by_side else []),
            f"| answers ({DEFAULT_MODE}, no LLM) | value | target |",
            "|---|---|---|",
            f"| refusal rate on unanswerable | {default['refusal_rate']:.2f} | >= 0.80 |",
            f"| false refusals of answerable | {default['false_refusal_rate']:.2f} | <= 0.10 |",
            f"| expected answer in the answers given | {contains_given:.2f} ({len(given)} answers) | |",
            f"| expected answer in the answer, over all answerable | {default['answer_contains']:.2f} | >= 0.70 |",
            f"| citation precision (cited articles that are relevant) | {default['citation_precision']:.2f} | |",
            "",
            "| speed | value | target |",
            "|---|---|---|",
            f"| warm retrieval + answer, median / p95 over the dev questions | {default['p50_ms']:.1f} / "
            f"{default['p95_ms']:.1f} ms | <= 400 / 800 ms |",
            f"| cold `spacebot ask` (fresh process, end to end), median of 3 | "
            f"{statistics.median(cold):.2f} s | <= 3 s |",
            f"| `spacebot --help`, median of 5 | {statistics.median(helps):.2f} s | < 1 s |",
            "",
            "Per-kind tables and the questions each mode missed: [bench/report.md](bench/report.md).",
            "",
            "![metrics per mode](bench/chart.png)",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--questions", default="../shared/eval/dev.jsonl")
    parser.add_argument(
        "--confirm",
        default="../shared/eval/dev2.jsonl",
        help="a second question set, reported beside the first (settings are never tuned on it)",
    )
    parser.add_argument("--data-dir", default=".bench/index", help="cached index (rebuilt when the corpus changes)")
    parser.add_argument("--out", default="docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    env = dict(os.environ, SPACEBOT_DATA_DIR=str(Path(args.data_dir).resolve()))
    env.pop("SPACEBOT_LLM_BASE_URL", None)
    cli = [sys.executable, "-m", "bot.faces.cli"]

    seconds, result = _run([*cli, "ingest", args.corpus, "--prune", "--json"], env)
    if result.returncode not in (0, 1):
        raise SystemExit(f"ingest failed:\n{result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    print(
        f"index: {summary['total_articles']} articles, {summary['total_chunks']} chunks "
        f"({summary['new']} new, {summary['changed']} changed) in {seconds:.0f} s",
        file=sys.stderr,
    )

    os.environ["SPACEBOT_DATA_DIR"] = env["SPACEBOT_DATA_DIR"]
    from bot.core.service import AnswerService
    from eval.evaluate import evaluate
    from eval.questions import load_questions
    from eval.report import write_report
    from ingest.settings import Settings

    service = AnswerService(Settings(_env_file=None, SPACEBOT_DATA_DIR=env["SPACEBOT_DATA_DIR"]))
    service.answer("warm up the index")  # first-call costs are the cold benchmark's business
    result_eval, warnings = evaluate(service, args.questions, MODES, k=10)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    results = {Path(args.questions).stem: result_eval}
    if args.confirm:
        results[Path(args.confirm).stem] = evaluate(service, args.confirm, MODES, k=10)[0]
    out_dir = Path(args.out).parent / "bench"
    write_report(result_eval, out_dir, command="make bench")
    questions, _ = load_questions(args.questions)
    bare, with_history, n_followups = _followup_gain(service, questions)

    cold = []
    for _ in range(3):
        took, run = _run([*cli, "ask", "who signed the artemis accords for uruguay?"], env)
        cold.append(took)
    helps = [_run([*cli, "--help"], env)[0] for _ in range(5)]

    body = _quality_section(
        args, summary, result_eval, questions, (bare, with_history, n_followups), cold, helps, _side_by_side(results)
    )
    replace_section(Path(args.out), "quality", body)
    print(body)


if __name__ == "__main__":
    main()
