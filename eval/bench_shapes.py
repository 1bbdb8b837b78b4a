"""Latency of the answer shapes: warm answers of list / timeline / outlets questions beside single facts,
and the cold `spacebot ask` of a fact question here and in another checkout (shapes must not slow it).

The machine is shared, so the report gives the load average beside each figure.

    PYTHONPATH=. python -m eval.bench_shapes --data-dir INDEX [--questions eval/shapes_dev.jsonl]
        [--cold-repo /work/main]
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

COLD_QUESTION = "who signed the artemis accords for uruguay?"  # the cold question eval/bench_latency.py times


WARM_UP = ("which companies build lunar landers?", "how has the space station program changed?", COLD_QUESTION)


def warm(data_dir: str, questions: list[str]) -> dict:
    """Per shape: p50 and p95 of warm answer times (ms), each question asked once after other questions
    warmed the models (asking a question twice would time the cross-encoder's cache)."""
    os.environ["SPACEBOT_DATA_DIR"] = data_dir
    from bot.core.service import AnswerService
    from eval.metrics import percentile
    from eval.questions import load_questions
    from ingest.settings import Settings

    service = AnswerService(Settings())
    asked = [q for path in questions for q in load_questions(path)[0]]
    for question in WARM_UP:  # models loaded, spaCy and dateparser too
        service.answer(question)
    times: dict[str, list[float]] = {}
    for q in asked:
        started = time.perf_counter()
        answer = service.answer(q.question)
        times.setdefault(answer.shape, []).append((time.perf_counter() - started) * 1000)
    return {
        shape: {"n": len(ms), "p50_ms": round(statistics.median(ms)), "p95_ms": round(percentile(ms, 95))}
        for shape, ms in times.items()
    }


def cold(repo: Path, data_dir: str, runs: int) -> list[float]:
    """Seconds of `spacebot ask COLD_QUESTION` in a fresh process, `runs` times, with `repo` first on the path."""
    env = {**os.environ, "SPACEBOT_DATA_DIR": data_dir, "PYTHONPATH": str(repo)}
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.faces.cli", "ask", COLD_QUESTION], env=env, cwd=repo, capture_output=True
        )
        out.append(round(time.perf_counter() - started, 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--questions", nargs="+", default=["eval/shapes_dev.jsonl"])
    parser.add_argument("--cold-repo", help="another checkout whose cold `ask` is timed beside this one")
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    report = {"load_before": os.getloadavg()[0]}
    if args.cold_repo:
        for repo in (here, Path(args.cold_repo)):
            report[f"cold_s {repo}"] = cold(repo, args.data_dir, args.cold_runs)
    report["warm"] = warm(args.data_dir, args.questions)
    report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
