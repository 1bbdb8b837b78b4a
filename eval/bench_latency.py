"""Warm and cold answer latency of the reranked path: issue 10's settings against the shipped ones, in one run.

The machine is shared, so absolute times move with the load; each question is
answered by both settings back to back (in alternating order) and the report
gives both medians, their ratio and the load average. "before" is the reranked
path as first shipped (`--before first-shipped`: batches of 16 pairs with
spinning threads, depth 15 read at once, sentences of 5 passages) or as it was
before pairs were scored side by side (`--before one-at-a-time`: one pair at a
time on onnxruntime's default threads, the cascade's fall-through read at once);
"after" is the code's defaults. `--cost` times one call of the cross-encoder at
several lengths and fits milliseconds = a + b x wordpieces.

    PYTHONPATH=. python -m eval.bench_latency --data-dir INDEX [--before one-at-a-time] [--cold-repo OTHER]
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

BEFORE = {"bot.core.rerank.FIRST": 0, "bot.core.sentence_choice.SENTENCE_PASSAGES": 5}
BEFORE_BATCH = 16
ONE_AT_A_TIME = {"bot.core.rerank.STEP": None}
COLD_QUESTION = "who signed the artemis accords for uruguay?"


def _before_model():
    """The cross-encoder as first shipped: default thread spinning, batches of 16."""
    import onnxruntime as ort

    from bot.core import rerank

    model = rerank.CrossEncoder(rerank.bundled_dir(), workers=1)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    model.session = ort.InferenceSession(
        str(model.folder / rerank.MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
    )
    plain = model._score
    model._score = lambda texts, query, batch: plain(texts, query, BEFORE_BATCH)
    return model


class _Setting:
    """Swaps module constants and the loaded cross-encoder in and out."""

    def __init__(self, constants: dict, model):
        self.constants, self.model, self.saved = constants, model, []

    def __enter__(self):
        import importlib

        from bot.core import rerank

        for dotted, value in self.constants.items():
            module, name = dotted.rsplit(".", 1)
            module = importlib.import_module(module)
            self.saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        folder = rerank.reranker_dir(None)
        self.saved.append((rerank._loaded, folder, rerank._loaded.get(folder)))
        rerank._loaded[folder] = self.model
        return self

    def __exit__(self, *exc):
        for owner, name, value in reversed(self.saved):
            if isinstance(owner, dict):
                owner[name] = value
            else:
                setattr(owner, name, value)


def _before(name: str):
    """The "before" setting: its constants and its cross-encoder."""
    from bot.core import rerank

    if name == "first-shipped":
        return _Setting(BEFORE, _before_model())
    return _Setting(ONE_AT_A_TIME, rerank.CrossEncoder(rerank.bundled_dir(), workers=1))


def cost(lengths=(16, 32, 64, 96, 128, 160, 192, 224), rounds: int = 15) -> dict:
    """Median ms of one cross-encoder call (one pair, default settings) per length, and the fit a + b x n."""
    import numpy as np

    from bot.core import rerank

    model = rerank.CrossEncoder(rerank.bundled_dir())
    names = {i.name for i in model.session.get_inputs()}
    took: dict[int, list[float]] = {n: [] for n in lengths}
    for _ in range(rounds):
        for n in lengths:
            ids, ones, zeros = np.full((1, n), 2000), np.ones((1, n)), np.zeros((1, n))
            feed = {"input_ids": ids, "attention_mask": ones, "token_type_ids": zeros}
            feed = {k: v.astype(np.int64) for k, v in feed.items() if k in names}
            started = time.perf_counter()
            model.session.run(None, feed)
            took[n].append((time.perf_counter() - started) * 1000)
    medians = {n: statistics.median(v) for n, v in took.items()}
    slope, intercept = np.polyfit(list(medians), list(medians.values()), 1)
    return {"ms per call": medians, "ms = a + b x wordpieces": {"a": intercept, "b": slope}}


def warm(data_dir: str, questions_path: str, limit: int, before: str = "first-shipped") -> dict:
    """Median and p95 ms of `service.answer` for each setting, questions alternating which goes first."""
    from bot.core import rerank
    from bot.core.service import AnswerService
    from eval.metrics import percentile
    from ingest.settings import Settings

    service = AnswerService(Settings(_env_file=None, SPACEBOT_DATA_DIR=data_dir))
    after_model = rerank.load_reranker()
    settings = {"before": _before(before), "after": _Setting({}, after_model)}
    service.answer("warm up the index")
    lines = [json.loads(line) for line in Path(questions_path).read_text().splitlines() if line.strip()]
    ms: dict[str, list[float]] = {name: [] for name in settings}
    for i, q in enumerate(lines[:limit]):
        order = list(settings) if i % 2 == 0 else list(reversed(settings))
        for name in order:
            with settings[name] as s:
                s.model._cache.clear()
                started = time.perf_counter()
                service.answer(q["question"], [(h, "") for h in q.get("history", [])])
                ms[name].append((time.perf_counter() - started) * 1000)
    out = {name: {"p50": statistics.median(v), "p95": percentile(v, 95), "n": len(v)} for name, v in ms.items()}
    out["ratio p50 after/before"] = out["after"]["p50"] / out["before"]["p50"]
    out["ratio p95 after/before"] = out["after"]["p95"] / out["before"]["p95"]
    return out


def cold(data_dir: str, repos: dict[str, str], runs: int) -> dict:
    """Wall seconds of a fresh `spacebot ask` from each checkout, runs interleaved."""
    env = dict(os.environ, SPACEBOT_DATA_DIR=data_dir)
    env.pop("SPACEBOT_LLM_BASE_URL", None)
    took: dict[str, list[float]] = {name: [] for name in repos}
    for _ in range(runs):
        for name, repo in repos.items():
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "bot.faces.cli", "ask", COLD_QUESTION],
                cwd=repo,
                env=dict(env, PYTHONPATH=repo),
                capture_output=True,
                check=True,
            )
            took[name].append(time.perf_counter() - started)
    return {name: {"median s": statistics.median(v), "all": v} for name, v in took.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--questions", default="../shared/eval/dev2.jsonl")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--cold-repo", help="another checkout (e.g. main) whose cold `ask` is timed beside this one")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--before", choices=["first-shipped", "one-at-a-time"], default="first-shipped")
    parser.add_argument("--cost", action="store_true", help="also time one call per length")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold runs")
    args = parser.parse_args(argv)
    report: dict = {"load average before": os.getloadavg()}
    if args.cost:
        report["cost"] = cost()
    report["warm"] = warm(args.data_dir, args.questions, args.limit, args.before)
    report["load average after warm"] = os.getloadavg()
    if args.no_cold:
        print(json.dumps(report, indent=1))
        return
    repos = {"this checkout": str(Path.cwd())}
    if args.cold_repo:
        repos["other checkout"] = args.cold_repo
    report["cold"] = cold(args.data_dir, repos, args.cold_runs)
    report["load average after cold"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
