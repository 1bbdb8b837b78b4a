"""LLM answers vs extractive answers on question sets, in one run, over an existing index.

    python -m eval.bench_llm --data-dir .bench/index \\
        --questions ../shared/eval/dev.jsonl ../shared/eval/dev2.jsonl --out docs/bench/llm.json
    python -m eval.bench_llm ... --llm-gguf model.gguf --threads 2 --stride 4   # every 4th question

Starts SmolLM2-135M (or `--llm-gguf FILE`) under llama.cpp on 127.0.0.1
(`eval/llm_server.py`), or uses `--llm-url` (any OpenAI-compatible server), and
asks each question twice through
the same `AnswerService` code: once answered extractively, once by the LLM, both
streaming through `on_token` as the CLI and Slack do. Per mode it records time
to first token and total time per answer (median, p95), the answer-contains rate
(the expected string in a non-refused answer, over the answerable questions that
have one), and citation validity (share of answers whose `[n]` markers all name a cited
passage; answers without any marker count as invalid). For the LLM it also
records how often its own answer was used (not the extractive fallback), and its
raw replies before markers naming no passage were removed: how many have valid
markers, and how many contain the expected string; why replies fell back (the
reasons `generate_answer` logs); refusals split into false ones (answerable
questions) and right ones (unanswerable); and LLM answers left without a sentence
whose cited passage supports it (the target is none). Prints a markdown table per
question file; writes JSON. The index is opened for questions only, never ingested into (Chroma may
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
from collections import Counter
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


class Reasons(logging.Handler):
    """Collects why `generate_answer` fell back ("LLM reply unusable (<reason>)", or
    "LLM unavailable") and how many markers it dropped, for the current question."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.reset()

    def reset(self) -> None:
        self.reasons: list[str] = []
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("LLM reply unusable ("):
            self.reasons.append(message[len("LLM reply unusable (") :].split(")", 1)[0])
        elif message.startswith("LLM unavailable"):
            self.reasons.append("LLM failed")
        elif message.startswith("dropped marker"):
            self.dropped += 1


@contextlib.contextmanager
def llm_url(given: str | None, threads: int, ctx: int, gguf: str | None = None) -> Iterator[str]:
    if given:
        yield given
        return
    from eval.llm_server import llama_server

    started = time.perf_counter()
    with llama_server(threads=threads, ctx=ctx, n_predict=64, startup_timeout=300, model=gguf) as url:
        print(f"llama server ready in {time.perf_counter() - started:.1f} s at {url}", file=sys.stderr)
        yield url


def ask(service, question, history, raw: RawReplies | None, reasons: Reasons | None = None, limits=None) -> dict:
    """One timed answer: first token and total in ms, the answer and its checks."""
    from bot.core.service import LLM_FALLBACK_NOTE

    first: list[float] = []
    if raw is not None:
        raw.last, raw.asked = None, False
        # each question gets the server afresh: a follow-up's rewrite that timed out
        # (10 s cap) would otherwise have the next questions skip the LLM for 30 s
        raw.client.failed_at = None
    if reasons is not None:
        reasons.reset()
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
        if question.answer and question.answerable
        else None,
        "citations_valid": None if answer.refused else markers_valid(answer.text, cited),
    }
    row["answerable"] = question.answerable
    row["false_refusal"] = answer.refused if question.answerable else None
    row["right_refusal"] = answer.refused if not question.answerable else None
    if raw is not None:
        reply = raw.last
        row["llm_asked"] = raw.asked  # False when weak evidence refused before any LLM call
        row["llm_used"] = not answer.refused and answer.note != LLM_FALLBACK_NOTE
        row["fell_back"] = raw.asked and answer.note == LLM_FALLBACK_NOTE
        row["fallback_reasons"] = list(reasons.reasons) if reasons is not None else []
        row["markers_dropped"] = reasons.dropped if reasons is not None else 0
        row["unsupported"] = None
        if row["llm_used"]:
            from bot.core.generate import drop_unsupported
            from bot.core.llm_answerer import llm_passages

            passages = llm_passages(answer.hits, limits.articles, limits.per_article) if limits else []
            row["unsupported"] = not drop_unsupported(answer.text, question.question, passages)[1]
        row["llm_reply"] = reply
        row["llm_passages"] = raw.passages if reply is not None else None
        row["llm_reply_valid"] = None if reply is None else markers_valid(reply, set(range(1, raw.passages + 1)))
        row["llm_reply_has_markers"] = None if reply is None else bool(marker_numbers(reply))
        row["llm_reply_contains"] = (
            answer_contains(reply, question.answer) if reply is not None and row["contains"] is not None else None
        )
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
        "ttft_ms_p50": _ms(ttft, 50),
        "ttft_ms_p95": _ms(ttft, 95),
        "total_ms_p50": _ms(total, 50),
        "total_ms_p95": _ms(total, 95),
        "refused": _share(rows, "refused"),
        "contains": _share(rows, "contains"),
        "contains_n": sum(r["contains"] is not None for r in rows),
        "citations_valid": _share(rows, "citations_valid"),
        "false_refusal": _share(rows, "false_refusal"),
        "right_refusal": _share(rows, "right_refusal"),
        "answerable": sum(bool(r["answerable"]) for r in rows),
    }
    if rows and "llm_used" in rows[0]:
        out["llm_used"] = _share(rows, "llm_used")
        out["fell_back"] = _share(rows, "fell_back")
        out["unsupported_answers"] = sum(bool(r["unsupported"]) for r in rows)
        out["markers_dropped"] = sum(r["markers_dropped"] for r in rows)
        out["fallback_reasons"] = dict(Counter(x for r in rows for x in r["fallback_reasons"]).most_common())
        out["llm_reply_valid"] = _share(rows, "llm_reply_valid")
        out["llm_reply_has_markers"] = _share(rows, "llm_reply_has_markers")
        out["llm_reply_contains"] = _share(rows, "llm_reply_contains")
        asked = [r for r in rows if r["llm_asked"]]
        out["llm_asked"] = len(asked)
        out["llm_failed"] = round(sum(r["llm_reply"] is None for r in asked) / len(asked), 3) if asked else None
    return out


def table(summary: dict[str, dict]) -> str:
    """A markdown table, one row per mode (or per "file, mode")."""

    def fmt(value, unit: str = "") -> str:
        if value is None:
            return "—"
        return f"{value:,.0f}{unit}" if unit else f"{value:.2f}"

    lines = [
        (
            "| answers | first token p50 / p95 | total p50 / p95 | contains expected | citations valid "
            "| refused | false refusals | unanswerable refused | LLM answer used / fell back "
            "| answers without a supported sentence | raw LLM replies: valid markers / contain expected |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, s in summary.items():
        used = f"{fmt(s.get('llm_used'))} / {fmt(s.get('fell_back'))}" if "llm_used" in s else "—"
        lines.append(
            f"| {mode} | {fmt(s['ttft_ms_p50'], ' ms')} / {fmt(s['ttft_ms_p95'], ' ms')} "
            f"| {fmt(s['total_ms_p50'], ' ms')} / {fmt(s['total_ms_p95'], ' ms')} "
            f"| {fmt(s['contains'])} (n={s['contains_n']}) | {fmt(s['citations_valid'])} | {fmt(s['refused'])} "
            f"| {fmt(s.get('false_refusal'))} | {fmt(s.get('right_refusal'))} | {used} "
            f"| {s.get('unsupported_answers', '—')} "
            f"| {fmt(s.get('llm_reply_valid'))} / {fmt(s.get('llm_reply_contains'))} |"
        )
    return "\n".join(lines)


def reasons_line(summary: dict[str, dict]) -> str:
    """Why LLM replies fell back, per row that has any."""
    parts = [
        f"{name}: " + ", ".join(f"{k} {v}" for k, v in s["fallback_reasons"].items())
        for name, s in summary.items()
        if s.get("fallback_reasons")
    ]
    return ("Fallback reasons — " + "; ".join(parts) + ".") if parts else ""


def record(args, argv, data_dir: Path, sets: dict[str, list], rows: dict, model: str, elapsed: float) -> dict:
    """The results so far, written to `args.out` (after every question, so that a run
    stopped early still leaves what it measured; `--render` turns that into the doc)."""
    from eval.benchdoc import machine

    summary = {f"{name}, {mode}": summarize(rows[name][mode]) for name in sets for mode in MODES if rows[name][mode]}
    where = args.llm_url if args.llm_url else f"llama.cpp on 127.0.0.1 ({args.threads} threads)"
    result = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python -m eval.bench_llm " + " ".join(argv if argv is not None else sys.argv[1:]),
        "index": str(data_dir),
        "questions": {
            name: {
                "planned": len(qs),
                "asked": len(rows[name]["llm"]),
                "stride": args.stride,
                "limit": args.limit,
                "ids": [r["id"] for r in rows[name]["llm"]],
            }
            for name, qs in sets.items()
        },
        "llm": {
            "model": model,
            "url": where,
            "max_tokens": args.max_tokens,
            "context": args.ctx,
            "passages": args.articles * args.passages_per_article,
            "threads": None if args.llm_url else args.threads,
        },
        "out": args.out,
        "seconds": round(elapsed, 1),
        "summary": summary,
        "answers": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def write_doc(result: dict, doc: str, section: str) -> None:
    """Put `result`'s table in `section` of the benchmark record `doc`."""
    from eval.benchdoc import replace_section, stamp

    llm = result["llm"]
    model_name = Path(str(llm["model"])).name
    asked = ", ".join(
        f"{name}: {q['asked']} questions"
        + (f" (every {q['stride']}th" if q["stride"] > 1 else " (")
        + (f" of the file; {q['planned'] - q['asked']} not reached)" if q["asked"] < q["planned"] else ")")
        for name, q in result["questions"].items()
    )
    replace_section(
        Path(doc),
        section,
        "\n".join(
            [
                f"### {model_name}",
                "",
                stamp(result["command"]),
                "",
                (
                    f"{asked}; both ways in one run; model {model_name} on {llm['url']}, at most {llm['max_tokens']} "
                    f"tokens, up to {llm['passages']} passages per prompt, context {llm['context']}. "
                    f"Raw results: `{result['out']}`."
                ),
                "",
                table(result["summary"]),
                "",
                reasons_line(result["summary"]),
            ]
        ),
    )


def mixed(questions: list) -> list:
    """`questions` reordered round-robin over their kinds, so that a run stopped early
    has asked some of every kind (unanswerable ones come last in the files)."""
    by_kind: dict[str, list] = {}
    for q in questions:
        by_kind.setdefault(q.kind, []).append(q)
    out = []
    while any(by_kind.values()):
        for kind in list(by_kind):
            if by_kind[kind]:
                out.append(by_kind[kind].pop(0))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="an existing index (SPACEBOT_DATA_DIR), e.g. .bench/index")
    parser.add_argument(
        "--questions",
        nargs="+",
        default=["../shared/eval/dev.jsonl"],
        help="one or more question files, each measured on its own",
    )
    parser.add_argument("--out", default="docs/bench/llm.json", help="where to write the JSON results")
    parser.add_argument("--doc", default="docs/BENCHMARKS.md", help="the benchmark record to update ('' for none)")
    parser.add_argument("--section", default="llm", help="the section of --doc this run writes")
    parser.add_argument("--limit", type=int, default=20, help="ask at most N questions of each file (0: all)")
    parser.add_argument(
        "--stride",
        type=int,
        default=1,
        help="ask every Nth question of each file (4: a quarter, spread over all kinds)",
    )
    parser.add_argument("--max-tokens", type=int, default=64, help="longest LLM answer, in tokens")
    parser.add_argument("--articles", type=int, default=5, help="articles whose passages the LLM reads")
    parser.add_argument("--passages-per-article", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="SPACEBOT_LLM_TIMEOUT for the run")
    parser.add_argument("--llm-url", default=None, help="use this OpenAI-compatible server instead of SmolLM2")
    parser.add_argument("--llm-gguf", default=None, help="serve this GGUF file with llama.cpp instead of SmolLM2")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 is steadiest on a busy box)")
    parser.add_argument(
        "--ctx", type=int, default=4096, help="llama.cpp context size, and SPACEBOT_LLM_CONTEXT for the run"
    )
    parser.add_argument(
        "--resume",
        metavar="JSON",
        default=None,
        help="keep the rows of an earlier run's results file and ask only the other questions",
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        default=None,
        help="only write --doc's section from the results file of an earlier run",
    )
    return parser


def _question_sets(args) -> dict[str, list] | None:
    """Each question file's questions (strided, kinds mixed, limited); None after a one-line error."""
    from eval.questions import load_questions

    sets: dict[str, list] = {}
    for file in args.questions:
        try:
            questions, warnings = load_questions(file)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        questions = mixed(questions[:: max(1, args.stride)])
        sets[Path(file).stem] = questions[: args.limit] if args.limit else questions
    return sets


def _earlier_rows(args, sets: dict[str, list]) -> tuple[dict, set[tuple[str, str]]]:
    """Empty result rows per set and mode, or (with --resume) an earlier run's rows and their ids."""
    rows: dict[str, dict[str, list[dict]]] = {name: {mode: [] for mode in MODES} for name in sets}
    kept: set[tuple[str, str]] = set()
    if args.resume:
        earlier = json.loads(Path(args.resume).read_text(encoding="utf-8"))["answers"]
        for name in sets:
            for mode in MODES:
                rows[name][mode] = list(earlier.get(name, {}).get(mode, []))
            kept |= {(name, r["id"]) for r in rows[name]["llm"]}
    return rows, kept


def _llm_service(args: argparse.Namespace, url: str, base: dict, index):
    """(the LLM-mode AnswerService sharing `index`, its recording client, the limits)."""
    from bot.core.service import AnswerService, LLMLimits
    from ingest.settings import Settings

    settings = Settings(
        _env_file=None,
        SPACEBOT_LLM_BASE_URL=url,
        SPACEBOT_LLM_TIMEOUT=args.timeout,
        SPACEBOT_LLM_CONTEXT=args.ctx,
        **base,
    )
    limits = LLMLimits(articles=args.articles, per_article=args.passages_per_article, max_tokens=args.max_tokens)
    llm = AnswerService(settings, index=index, llm_limits=limits)
    raw = RawReplies(llm.llm)
    llm.__dict__["llm"] = raw  # the cached property, replaced by the recording wrapper
    return llm, raw, limits


def _progress(done: int, total: int, qid: str, row: dict) -> None:
    """One stderr line per question: the LLM's time and whether its answer was used."""
    print(
        f"[{done}/{total}] {qid}: llm {row['total_ms'] / 1000:.1f} s"
        f"{' (own answer)' if row['llm_used'] else ''}"
        f"{' fell back: ' + ', '.join(row['fallback_reasons']) if row['fallback_reasons'] else ''}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        write_doc(json.loads(Path(args.render).read_text(encoding="utf-8")), args.doc, args.section)
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from bot.core.service import AnswerService
    from ingest.settings import Settings
    from ingest.store import StoreUnavailable

    data_dir = Path(args.data_dir).resolve()
    sets = _question_sets(args)
    if sets is None:
        return 2
    base = {"SPACEBOT_DATA_DIR": data_dir}
    try:
        extractive = AnswerService(Settings(_env_file=None, **base))
        index = extractive.index
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    reasons = Reasons()
    logging.getLogger("spacebot.llm").addHandler(reasons)
    logging.getLogger("spacebot.llm").setLevel(logging.INFO)
    rows, kept = _earlier_rows(args, sets)
    started = time.perf_counter()
    with llm_url(args.llm_url, args.threads, args.ctx, args.llm_gguf) as url:
        llm, raw, limits = _llm_service(args, url, base, index)
        model = raw.model
        # warm up the query encoder, the openai client and the model, on nothing the
        # questions ask (llama.cpp would otherwise reuse the first question's prompt)
        extractive.answer("What does NASA do?")
        raw.chat([{"role": "user", "content": "Say hello."}], max_tokens=4)
        total = sum(len(qs) for qs in sets.values())
        done = 0
        for name, questions in sets.items():
            for q in questions:
                done += 1
                if (name, q.id) in kept:
                    continue
                for mode, service in (("extractive", extractive), ("llm", llm)):
                    rows[name][mode].append(
                        ask(
                            service,
                            q,
                            q.history,
                            raw if mode == "llm" else None,
                            reasons if mode == "llm" else None,
                            limits,
                        )
                    )
                record(args, argv, data_dir, sets, rows, model, time.perf_counter() - started)
                _progress(done, total, q.id, rows[name]["llm"][-1])
    result = record(args, argv, data_dir, sets, rows, model, time.perf_counter() - started)
    print(table(result["summary"]))
    if args.doc:
        write_doc(result, args.doc, args.section)
    print(
        f"\n{total} questions, model {model}, max {args.max_tokens} tokens, "
        f"{args.articles * args.passages_per_article} passages; {result['seconds']:.0f} s; wrote {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
