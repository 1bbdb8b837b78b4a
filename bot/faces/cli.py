"""The `spacebot` command line: a thin face over ingest, the answering core and eval.

Heavy libraries are imported inside the commands, so `spacebot --help` is instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="Answers questions about space policy from ingested news articles, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings():
    from pydantic import ValidationError

    from ingest.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:  # a bad value in the environment or .env: name it, no traceback
        problem = exc.errors()[0]
        _fail(f"{'.'.join(map(str, problem['loc']))}={problem.get('input')!r}: {problem['msg']}", code=2)


INTERRUPTED = 130  # the shell's code for a process stopped by SIGINT (128 + 2)


def _fail(message: str, code: int = 1) -> None:
    """One clear line on stderr, then exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _console():
    from rich.console import Console

    return Console(stderr=True)


@app.command()
def ingest(
    inputs: list[str] = typer.Argument(
        ..., help="Folders, files (.md .txt .html .json .jsonl .rss .xml) or http(s) URLs."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    prune: bool = typer.Option(False, "--prune", help="Remove indexed articles whose inputs are gone."),
    follow_links: bool = typer.Option(
        False, "--follow-links", help="For feeds: fetch each entry's page for the full text."
    ),
) -> None:
    """Add articles to the index; unchanged articles are skipped, changed ones replaced.

    Ctrl-C or SIGTERM stops it between two writes (exit 130); a second ingest of
    the same data dir waits for the first.
    """
    import signal

    from bot.faces.ingest_lock import NotWritable, one_ingest_at_a_time
    from bot.faces.ingest_view import IngestView, interrupted_line, print_summary
    from ingest.pipeline import run_ingest
    from ingest.store import StoreUnavailable

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    console = _console()
    settings = _settings()
    view = IngestView(console, quiet=as_json)
    try:
        with one_ingest_at_a_time(settings.data_dir, on_wait=lambda line: typer.echo(line, err=True)), view:
            summary = run_ingest(inputs, settings, prune=prune, follow_links=follow_links, progress=view)
    except KeyboardInterrupt:
        typer.echo(interrupted_line(view), err=True)
        raise typer.Exit(INTERRUPTED) from None
    except (StoreUnavailable, NotWritable) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(console, summary)
    for error in summary.failed:
        typer.echo(f"failed: {error}", err=True)
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    raise typer.Exit(1 if summary.failed else 0)


@app.command()
def sources(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """What is indexed: articles and chunks per source, date range, index location; and the
    sources `spacebot watch` polls: last run, result, new articles, next run."""
    from bot.faces.watch import watched_statuses, watched_table
    from ingest.inventory import take_inventory
    from ingest.store import ChunkStore, StoreUnavailable

    settings = _settings()
    watched = watched_statuses(settings)
    try:
        inventory = take_inventory(ChunkStore(settings, create=False))
    except StoreUnavailable as exc:
        if watched and not as_json:  # why the watcher has indexed nothing yet is worth seeing
            _console().print(watched_table(watched))
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps({**inventory.to_dict(), "watched": [w.to_dict() for w in watched]}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{inventory.articles} articles, {inventory.chunks} chunks — {inventory.location}")
    for column in ("source", "articles", "chunks", "first", "last", "publishers"):
        table.add_column(column, justify="right" if column in ("articles", "chunks") else "left")
    for s in inventory.sources:
        publishers = ", ".join(s.publishers) or "—"
        table.add_row(s.source, str(s.articles), str(s.chunks), s.first or "—", s.last or "—", publishers)
    Console().print(table)
    if watched:
        Console().print(watched_table(watched))


@app.command()
def watch(
    inputs: list[str] = typer.Argument(None, metavar="SOURCE...", help="Feed URLs, page URLs or folders to poll."),
    every: str = typer.Option("15m", "--every", help="How often each source is polled: 90s, 15m, 2h, 1h30m."),
    follow_links: bool = typer.Option(
        False, "--follow-links", help="For feeds: fetch each new or updated entry's page for the full text."
    ),
    once: bool = typer.Option(
        False, "--once", help="Run one round and exit (cron, a Kubernetes CronJob); exit 1 if a source failed."
    ),
    sources_file: Path | None = typer.Option(
        None, "--sources-file", help="One source a line, optionally followed by its own interval (`URL 2h`)."
    ),
) -> None:
    """Ingest sources on a schedule in one long-running process; an unchanged feed costs one
    conditional request (304). A failing source backs off (up to 8 intervals) while the others go on.

    Ctrl-C or SIGTERM lets the articles being embedded finish, then exits 0.
    """
    from bot.faces.watch import run_watch
    from ingest.watch.durations import parse_duration
    from ingest.watch.source_list import watch_list

    try:
        interval = parse_duration(every)
    except ValueError as exc:
        _fail(f"--every: {exc}", code=2)
    try:
        listed = watch_list(inputs or [], interval, sources_file)
    except ValueError as exc:
        _fail(str(exc), code=2)
    if not listed:
        _fail("nothing to watch: name feed URLs, page URLs or folders, or give --sources-file", code=2)
    raise typer.Exit(run_watch(_settings(), listed, follow_links=follow_links, once=once))


@app.command()
def doctor(
    repair: bool = typer.Option(False, "--repair", help="Rebuild the damaged parts that can be rebuilt."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check every part of the index (and the state store); exit 0 when all is well, 1 otherwise."""
    from bot.faces.doctor_view import check_state_store
    from ingest.doctor import check_index

    settings = _settings()
    checks = [*check_index(settings, repair=repair), check_state_store(settings)]
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in checks], indent=2, ensure_ascii=False))
    else:
        for check in checks:
            typer.echo(f"{check.status:>8}  {check.part}: {check.detail}")
    raise typer.Exit(0 if all(c.status == "ok" for c in checks) else 1)


def _filters(source: str | None, since: str | None, until: str | None):
    from bot.core.records import Filters
    from bot.faces.dates import DateError, parse_day

    def day(value: str | None, flag: str):
        if value is None:
            return None
        try:
            return parse_day(value)
        except DateError as exc:  # one line, not typer's box (it wraps a long message at 80 columns)
            _fail(f"{flag}: {exc}", code=2)

    return Filters(source=source, since=day(since, "--since"), until=day(until, "--until"))


def _check_source(source: str | None) -> None:
    """Exit 2 with the indexed sources when `--source` names none of them."""
    if source is None:
        return
    from ingest.inventory import has_source, source_names
    from ingest.store import ChunkStore, StoreUnavailable

    try:
        store = ChunkStore(_settings(), create=False)
        if not has_source(store, source):
            names = ", ".join(source_names(store)) or "none (the index is empty)"
            _fail(f"unknown source {source!r}; indexed sources: {names}", code=2)
    except StoreUnavailable as exc:
        _fail(str(exc))


def _service():
    from bot.core.service import AnswerService

    return AnswerService(_settings())


def _print_answer(answer, stream=None) -> None:
    """The answer with its sources; after a stream that showed the whole text, only what follows it."""
    from bot.faces.terminal import format_answer

    text = format_answer(answer)
    if stream is not None and stream.started():
        typer.echo()  # end the streamed line
        if stream.showed_all_of(answer):
            text = text[len(answer.text) :].removeprefix("\n")
    typer.echo(text)


def _answer_or_fail(run):
    from bot.core.api import QuestionError
    from bot.core.rerank import ModelFileError
    from ingest.store import StoreUnavailable

    try:
        return run()
    except QuestionError as exc:
        _fail(str(exc), code=2)
    except ModelFileError as exc:  # a model file missing: one line naming the package to install
        _fail(str(exc))
    except StoreUnavailable as exc:
        _fail(str(exc))


SOURCE = typer.Option(None, "--source", help="Only articles from this source (see `spacebot sources`).")
SINCE = typer.Option(
    None, "--since", help="Only articles published on or after this date: 2024-01-31, or 7d, 2w, last month."
)
UNTIL = typer.Option(
    None, "--until", help="Only articles published on or before this date: 2024-01-31, or 7d, 2w, last month."
)


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in quotes."),
    as_json: bool = typer.Option(
        False, "--json", help="Print {answer, refused, short_answer, confidence, citations} as JSON."
    ),
    k: int | None = typer.Option(None, "-k", min=1, max=50, help="Sources to cite / articles to list."),
    source: str | None = SOURCE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> None:
    """Answer one question from the ingested articles, with numbered sources."""
    from bot.core.api import streams_answers
    from bot.faces.streaming import Stream

    filters = _filters(source, since, until)
    _check_source(source)
    service = _service()
    stream = Stream(lambda piece: typer.echo(piece, nl=False)) if not as_json and streams_answers(service) else None
    answer = _answer_or_fail(lambda: service.ask(question, filters=filters, k=k, on_token=stream))
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_answer(answer, stream)


@app.command()
def chat(
    conversation: str | None = typer.Option(None, "--conversation", help="Resume a stored conversation by id."),
    source: str | None = SOURCE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> None:
    """An interactive session that remembers the conversation, so follow-ups work."""
    from bot.faces.chat import run_chat

    filters = _filters(source, since, until)
    _check_source(source)
    run_chat(_service(), filters, conversation)


@app.command()
def slack(
    http: bool = typer.Option(False, "--http", help="Serve the Events API over HTTP instead of Socket Mode."),
    port: int = typer.Option(3000, "--port", help="Port for --http."),
    host: str = typer.Option("0.0.0.0", "--host", help="Interface for --http."),
) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, or --http with SLACK_SIGNING_SECRET."""
    import logging

    from bot.faces.slack.serve import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    try:
        run(settings, _service(), http=http, port=port, host=host)
    except ValueError as exc:
        _fail(str(exc), code=2)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes sharing the port."),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Serve a non-loopback --host without SPACEBOT_API_TOKENS (anyone may call it)."
    ),
) -> None:
    """Serve the HTTP API (POST /v1/ask, /v1/sources, /v1/ingest, /healthz, /readyz, /metrics; docs at /docs)."""
    import logging

    from bot.faces.api.serve import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(_settings(), host=host, port=port, workers=workers, no_auth=no_auth)
    except ValueError as exc:
        _fail(str(exc), code=2)


@app.command()
def brief(
    since: str = typer.Option(
        "1d", "--since", help="The window: 30m, 12h, 1d, 2w (by when the bot learned of a story)."
    ),
    topic: str | None = typer.Option(None, "--topic", help="Only stories that match this topic (as a follow would)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """The stories indexed in a window, one per story (copies folded), newest first, with lead sentence and links."""
    from bot.alerts.briefing import WindowError, briefing_for, parse_window, render_text
    from ingest.store import StoreUnavailable

    try:
        window = parse_window(since)
    except WindowError as exc:
        _fail(f"--since {exc}", code=2)
    try:
        briefing = briefing_for(_settings(), window, topic)
    except StoreUnavailable as exc:
        _fail(str(exc))
    typer.echo(json.dumps(briefing.to_dict(), indent=2, ensure_ascii=False) if as_json else render_text(briefing))


@app.command()
def feedback(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the 👍/👎 feedback recorded from Slack."""
    from bot.state.feedback import FeedbackStore

    store = FeedbackStore(_settings().state_url)
    records = store.list()
    if as_json:
        from dataclasses import asdict

        typer.echo(json.dumps([asdict(r) for r in records], indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo("No feedback recorded yet.")
        return
    for r in records:
        vote = "👍" if r.vote > 0 else "👎"
        typer.echo(f"{vote} {r.question!r} — cited {', '.join(r.article_ids) or 'nothing'} ({r.user}, {r.channel})")


@app.command("eval")
def eval_command(
    questions: str = typer.Argument(..., help="A question file (.jsonl), or `generate` to draft one with an LLM."),
    mode: str = typer.Option(
        "dense,bm25,hybrid,rerank",
        "--mode",
        help="Comma-separated retrieval modes to compare (rerank: what `ask` uses).",
    ),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Articles retrieved per question."),
    out: Path | None = typer.Option(None, "--out", help="Write report.md, results.json and chart.png here."),
    baseline: Path | None = typer.Option(None, "--baseline", help="An earlier results.json to compare with."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    count: int = typer.Option(20, "--count", help="With `generate`: how many questions to draft."),
) -> None:
    """Measure retrieval and answers on a question file, every mode in one run."""
    if questions == "generate":
        from eval.generate import generate_questions

        try:
            generate_questions(_service(), count, out)
        except ValueError as exc:
            _fail(str(exc), code=2)
        return
    from bot.core.retrieval import MODES

    modes = [m.strip() for m in mode.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise typer.BadParameter(
            f"unknown mode {', '.join(unknown)}; choose from {', '.join(MODES)}", param_hint="--mode"
        )
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from eval.evaluate import evaluate
    from eval.report import load_baseline, render_table, write_report
    from ingest.store import StoreUnavailable

    console = Console(stderr=True)
    try:
        previous = load_baseline(baseline) if baseline else None
    except ValueError as exc:
        _fail(str(exc), code=2)
    try:
        with Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task(f"asking ({', '.join(modes)})", total=None)
            service = _service()

            def advance(n: int) -> None:
                bar.update(task, advance=n)

            from eval.questions import load_questions

            try:
                total = len(load_questions(questions)[0]) * len(modes)
            except ValueError as exc:
                _fail(str(exc), code=2)
            bar.update(task, total=total)
            result, warnings = evaluate(service, questions, modes, k=k, progress=advance)
    except StoreUnavailable as exc:
        _fail(str(exc))
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if out:
        command = "spacebot eval " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else None
        files = write_report(result, out, baseline=baseline, command=command)
        console.print(f"wrote {', '.join(str(p) for p in files.values())}", highlight=False)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        Console().print(render_table(result, previous))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
