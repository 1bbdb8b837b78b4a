"""Warm answer latency of two checkouts, interleaved: each question answered by both, back to back.

    PYTHONPATH=. python -m eval.bench_two_trees --before /work/main --after . [--questions FILE] [--limit 30]

Each tree runs in its own warm worker process (`AnswerService` over `SPACEBOT_DATA_DIR`); the order
alternates per question, so load on the shared machine falls on both alike. Prints p50 / p95 of each,
their ratio and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time
from ingest.settings import Settings
from bot.core.service import AnswerService
service = AnswerService(Settings())
service.answer("warm up: who signed the artemis accords for germany?")
print("ready", flush=True)
for line in sys.stdin:
    q = json.loads(line)
    start = time.perf_counter()
    service.answer(q["question"], [(h, "") for h in q.get("history", [])])
    print(json.dumps((time.perf_counter() - start) * 1000), flush=True)
"""


def _worker(tree: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(tree.resolve()))
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _ask(proc: subprocess.Popen, question: dict) -> float:
    proc.stdin.write(json.dumps(question) + "\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", default=".")
    parser.add_argument("--questions", default=str(Path(__file__).resolve().parents[2] / "shared/eval/dev.jsonl"))
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args(argv)
    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    questions = questions[: args.limit]
    workers = {"before": _worker(Path(args.before)), "after": _worker(Path(args.after))}
    times: dict[str, list[float]] = {"before": [], "after": []}
    loads = [os.getloadavg()[0]]
    for i, q in enumerate(questions):
        for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
            times[name].append(_ask(workers[name], q))
    loads.append(os.getloadavg()[0])
    for proc in workers.values():
        proc.stdin.close()
        proc.wait(30)
    b, a = times["before"], times["after"]
    print(f"{len(questions)} questions, load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"before p50 {statistics.median(b):.0f} ms, p95 {_p95(b):.0f} ms")
    print(f"after  p50 {statistics.median(a):.0f} ms, p95 {_p95(a):.0f} ms")
    print(f"ratio  p50 {statistics.median(a) / statistics.median(b):.2f}, p95 {_p95(a) / _p95(b):.2f}")


if __name__ == "__main__":
    main()
