"""LLM answers vs extractive answers on a question set, in one run, over an existing index.

    python -m eval.bench_llm --data-dir .bench/index --questions ../shared/eval/dev.jsonl \\
        --out docs/llm_bench.json

Starts SmolLM2-135M under llama.cpp on 127.0.0.1 (`eval/llm_server.py`), or uses
`--llm-url` (any OpenAI-compatible server), and asks each question twice through
the same `AnswerService` code: once answered extractively, once by the LLM, both
streaming through `on_token` as the CLI and Slack do. Per mode it records time
to first token and total time per answer (median, p95), the answer-contains rate
(the expected string in a non-refused answer, over the answerable questions that
have one), and citation validity (share of answers whose `[n]` markers all name a cited
passage; answers without any marker count as invalid). For the LLM it also
records how often its own answer was used (not the extractive fallback), and its
raw replies before markers naming no passage were removed: how many have valid
markers, and how many contain the expected string. Prints a markdown table; writes
JSON. The index is opened for questions only, never ingested into (Chroma may
still touch its SQLite file when it opens it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from eval.metrics import answer_contains, percentile

MODES = ("extractive", "llm")


def marker_numbers(text: str) -> list[int]:
    """Every passage number named by a `[n]`, `[1, 2]` or `[1-3]` marker in `text`."""
    from bot.core.generate import _MARKER, _numbers

    return [n for m in _MARKER.finditer(text or "") for n in _numbers(m.group(1))]


def markers_valid(text: str, valid: set[int]) -> bool:
    """True when `text` has at least one marker and every marker names a number in `valid`."""
    numbers = marker_numbers(text)
    return bool(numbers) and all(n in valid for n in numbers)


class RawReplies:
    """Wraps an `LLMClient`; keeps the raw text of the last answer it wrote (None if it
    failed) and how many numbered passages that answer was given."""

    _PASSAGE = re.compile(r"^\[(\d+)\] ", re.M)

    def __init__(self, client) -> None:
        self.client = client
        self.last: str | None = None
        self.asked = False
        self.passages = 0
        self.timeout = client.timeout

    def __getattr__(self, name):
        return getattr(self.client, name)

    def chat(self, messages, *args, **kw):
        content = messages[-1].get("content") or ""
        answering = content.startswith("Passages:")
        if answering:
            self.last, self.asked = None, True
            self.passages = max((int(n) for n in self._PASSAGE.findall(content)), default=0)
        text = self.client.chat(messages, *args, **kw)
        if answering:
            self.last = text
        return text


@contextlib.contextmanager
def llm_url(given: str | None, threads: int, ctx: int) -> Iterator[str]:
    if given:
        yield given
        return
    from eval.llm_server import llama_server

    started = time.perf_counter()
    with llama_server(threads=threads, ctx=ctx, n_predict=64, startup_timeout=120) as url:
        print(f"llama server ready in {time.perf_counter() - started:.1f} s at {url}", file=sys.stderr)
        yield url


def ask(service, question, history, raw: RawReplies | None) -> dict:
    """One timed answer: first token and total in ms, the answer and its checks."""
    from bot.core.service import LLM_FALLBACK_NOTE

    first: list[float] = []
    if raw is not None:
        raw.last, raw.asked = None, False
    started = time.perf_counter()

    def on_token(piece: str) -> None:
        if not first:
            first.append(time.perf_counter())

    answer = service.answer(question.question, [(h, "") for h in history], on_token=on_token)
    done = time.perf_counter()
    cited = {c.n for c in answer.citations}
    row = {
        "id": question.id,
        "kind": question.kind,
        "ttft_ms": round((first[0] - started) * 1000, 1) if first else None,
        "total_ms": round((done - started) * 1000, 1),
        "refused": answer.refused,
        "note": answer.note,
        "answer": answer.text,
        "expected": question.answer,
        "contains": (not answer.refused and answer_contains(answer.text, question.answer))
        if question.answer and question.answerable else None,
        "citations_valid": None if answer.refused else markers_valid(answer.text, cited),
    }
    if raw is not None:
        reply = raw.last
        row["llm_asked"] = raw.asked  # False when weak evidence refused before any LLM call
        row["llm_used"] = not answer.refused and answer.note != LLM_FALLBACK_NOTE
        row["llm_reply"] = reply
        row["llm_passages"] = raw.passages if reply is not None else None
        row["llm_reply_valid"] = None if reply is None else markers_valid(reply, set(range(1, raw.passages + 1)))
        row["llm_reply_has_markers"] = None if reply is None else bool(marker_numbers(reply))
        row["llm_reply_contains"] = (answer_contains(reply, question.answer)
                                     if reply is not None and row["contains"] is not None else None)
    return row


def _share(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(bool(v) for v in values) / len(values), 3) if values else None


def _ms(values: list[float], q: float) -> float | None:
    value = percentile([v for v in values if v is not None], q)
    return None if value is None else round(value, 1)


def summarize(rows: list[dict]) -> dict:
    ttft = [r["ttft_ms"] for r in rows]
    total = [r["total_ms"] for r in rows]
    out = {
        "answers": len(rows),
        "ttft_ms_p50": _ms(ttft, 50), "ttft_ms_p95": _ms(ttft, 95),
        "total_ms_p50": _ms(total, 50), "total_ms_p95": _ms(total, 95),
        "refused": _share(rows, "refused"),
        "contains": _share(rows, "contains"),
        "contains_n": sum(r["contains"] is not None for r in rows),
        "citations_valid": _share(rows, "citations_valid"),
    }
    if rows and "llm_used" in rows[0]:
        out["llm_used"] = _share(rows, "llm_used")
        out["llm_reply_valid"] = _share(rows, "llm_reply_valid")
        out["llm_reply_has_markers"] = _share(rows, "llm_reply_has_markers")
        out["llm_reply_contains"] = _share(rows, "llm_reply_contains")
        asked = [r for r in rows if r["llm_asked"]]
        out["llm_asked"] = len(asked)
        out["llm_failed"] = round(sum(r["llm_reply"] is None for r in asked) / len(asked), 3) if asked else None
    return out


def table(summary: dict[str, dict]) -> str:
    def fmt(value, unit: str = "") -> str:
        if value is None:
            return "—"
        return f"{value:,.0f}{unit}" if unit else f"{value:.2f}"

    lines = [
        "| answers | first token p50 / p95 | total p50 / p95 | contains expected | citations valid "
        "| refused | LLM answer used | raw LLM replies: valid markers / contain expected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, s in summary.items():
        lines.append(
            f"| {mode} | {fmt(s['ttft_ms_p50'], ' ms')} / {fmt(s['ttft_ms_p95'], ' ms')} "
            f"| {fmt(s['total_ms_p50'], ' ms')} / {fmt(s['total_ms_p95'], ' ms')} "
            f"| {fmt(s['contains'])} (n={s['contains_n']}) | {fmt(s['citations_valid'])} | {fmt(s['refused'])} "
            f"| {fmt(s.get('llm_used'))} "
            f"| {fmt(s.get('llm_reply_valid'))} / {fmt(s.get('llm_reply_contains'))} |"
        )
    return "\n".join(lines)


def _write_doc(args, questions, model, result: dict, out: Path, summary: dict) -> None:
    """The "Generated answers (LLM) vs extractive" section of the benchmark record."""
    from eval.benchdoc import replace_section, stamp

    replace_section(Path(args.doc), "llm", "\n".join([
        "## Generated answers (LLM) vs extractive", "", stamp("make bench-llm"), "",
        f"First {len(questions)} dev questions, both ways in one run; model {Path(str(model)).name} on llama.cpp "
        f"({result['llm']['threads']} thread), at most {args.max_tokens} tokens, "
        f"{args.articles * args.passages_per_article} passages per prompt. Raw results: `{out}`.", "",
        table(summary), "",
        "SmolLM2-135M is a test model: it almost never writes valid `[n]` markers, so nearly every answer "
        "falls back to the quoted sentences. The row shows the contract holds (citations stay valid, "
        "the fallback is used), not what a real model would score. Point `--llm-url` at a real server to measure one.",
    ]))


def _arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an existing index (SPACEBOT_DATA_DIR), e.g. .bench/index")
    parser.add_argument("--questions", default="../shared/eval/dev.jsonl")
    parser.add_argument("--out", default="docs/bench/llm.json", help="where to write the JSON results")
    parser.add_argument("--doc", default="docs/BENCHMARKS.md", help="the benchmark record to update")
    parser.add_argument("--limit", type=int, default=20, help="ask the first N questions (0: all)")
    parser.add_argument("--max-tokens", type=int, default=64, help="longest LLM answer, in tokens")
    parser.add_argument("--articles", type=int, default=5, help="articles whose passages the LLM reads")
    parser.add_argument("--passages-per-article", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="SPACEBOT_LLM_TIMEOUT for the run")
    parser.add_argument("--llm-url", default=None, help="use this OpenAI-compatible server instead of SmolLM2")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 is steadiest on a busy box)")
    parser.add_argument("--ctx", type=int, default=4096, help="llama.cpp context size")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from bot.core.service import AnswerService, LLMLimits
    from eval.questions import load_questions
    from ingest.settings import Settings
    from ingest.store import StoreUnavailable

    data_dir = Path(args.data_dir).resolve()
    questions, warnings = load_questions(args.questions)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.limit:
        questions = questions[: args.limit]
    base = {"SPACEBOT_DATA_DIR": data_dir}
    try:
        extractive = AnswerService(Settings(_env_file=None, **base))
        index = extractive.index
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    rows: dict[str, list[dict]] = {mode: [] for mode in MODES}
    started = time.perf_counter()
    with llm_url(args.llm_url, args.threads, args.ctx) as url:
        settings = Settings(_env_file=None, SPACEBOT_LLM_BASE_URL=url, SPACEBOT_LLM_TIMEOUT=args.timeout, **base)
        limits = LLMLimits(articles=args.articles, per_article=args.passages_per_article, max_tokens=args.max_tokens)
        llm = AnswerService(settings, index=index, llm_limits=limits)
        raw = RawReplies(llm.llm)
        llm.__dict__["llm"] = raw  # the cached property, replaced by the recording wrapper
        model = raw.model
        # warm up the query encoder, the openai client and the model, on nothing the
        # questions ask (llama.cpp would otherwise reuse the first question's prompt)
        extractive.answer("What does NASA do?")
        raw.chat([{"role": "user", "content": "Say hello."}], max_tokens=4)
        for i, q in enumerate(questions, start=1):
            for mode, service in (("extractive", extractive), ("llm", llm)):
                rows[mode].append(ask(service, q, q.history, raw if mode == "llm" else None))
            r = rows["llm"][-1]
            print(f"[{i}/{len(questions)}] {q.id}: llm {r['total_ms'] / 1000:.1f} s"
                  f"{' (own answer)' if r['llm_used'] else ''}", file=sys.stderr)
    elapsed = time.perf_counter() - started

    summary = {mode: summarize(rows[mode]) for mode in MODES}
    from eval.benchdoc import machine

    result = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python -m eval.bench_llm " + " ".join(argv if argv is not None else sys.argv[1:]),
        "index": str(data_dir),
        "questions": {"file": args.questions, "asked": len(questions)},
        "llm": {"model": model, "url": "llama.cpp on 127.0.0.1" if not args.llm_url else args.llm_url,
                "max_tokens": args.max_tokens, "passages": args.articles * args.passages_per_article,
                "threads": None if args.llm_url else args.threads},
        "seconds": round(elapsed, 1),
        "summary": summary,
        "answers": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(summary))
    _write_doc(args, questions, model, result, out, summary)
    print(f"\n{len(questions)} questions, model {model}, max {args.max_tokens} tokens, "
          f"{args.articles * args.passages_per_article} passages; {elapsed:.0f} s; wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
