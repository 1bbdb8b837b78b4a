"""`spacebot watch` on the command line: wire the watcher to the state store and the ingest lock,
log one timestamped line per source run, stop cleanly on Ctrl-C / SIGTERM; and the watched
sources' table for `spacebot sources`."""

from __future__ import annotations

import signal
from datetime import UTC, datetime

import typer

from ingest.settings import Settings
from ingest.watch.records import SourceStatus
from ingest.watch.source_list import WatchSource


def log_line(line: str) -> None:
    """One line on stderr, stamped with the UTC time."""
    typer.echo(f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} {line}", err=True)


def run_watch(settings: Settings, sources: list[WatchSource], *, follow_links: bool, once: bool) -> int:
    """Watch `sources` (one round with `once`); the exit code: 0, or 1 when `once` saw a source fail
    or the data dir / state database cannot be used. SIGINT and SIGTERM exit 0."""
    from bot.faces.ingest_lock import NotWritable, one_ingest_at_a_time
    from bot.state.db import StateUnavailable
    from bot.state.watch_state import WatchStateStore
    from ingest.watch.durations import format_duration
    from ingest.watch.source_round import SourceRound
    from ingest.watch.watcher import Watcher

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    round_ = None
    try:
        state = WatchStateStore(settings.state_url)
        round_ = SourceRound(
            settings,
            state,
            follow_links=follow_links,
            lock=lambda: one_ingest_at_a_time(settings.data_dir, on_wait=log_line),
        )
        watcher = Watcher(sources, round_, state, log=log_line)
        every = ", ".join(sorted({format_duration(s.interval) for s in sources}))
        log_line(f"watching {len(sources)} source{'s' * (len(sources) > 1)}{'' if once else f' every {every}'}")
        if once:
            return 1 if any(s.result == "failed" for s in watcher.run_once()) else 0
        watcher.run_forever()
    except KeyboardInterrupt:
        log_line("stopped; every article in the index is whole")
        return 0
    except (NotWritable, StateUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    finally:
        if round_ is not None:
            round_.close()
    return 0


def watched_statuses(settings: Settings) -> list[SourceStatus]:
    """Every source watched with this state database ([] when there is none yet: nothing is created;
    [] and one warning line when it cannot be reached: the index is still worth showing)."""
    from bot.state.db import StateUnavailable
    from bot.state.watch_state import WatchStateStore

    if "://" not in settings.state_url and not settings.state_db.exists():
        return []
    try:
        return WatchStateStore(settings.state_url).statuses()
    except StateUnavailable as exc:
        typer.echo(f"warning: watched sources not shown: {exc}", err=True)
        return []


def watched_table(statuses: list[SourceStatus]):
    """A rich table: per watched source its interval, last run, result, new articles and next run."""
    from rich.table import Table

    from ingest.watch.durations import format_duration

    def when(ts: float | None) -> str:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts is not None else "—"

    table = Table(title="watched sources (spacebot watch)")
    table.add_column("source", overflow="fold")  # a URL is shown whole, over several lines if need be
    table.add_column("every", no_wrap=True)
    table.add_column("last run", no_wrap=True)
    table.add_column("result")
    table.add_column("new", justify="right")
    table.add_column("next run", no_wrap=True)
    for s in statuses:
        result = s.result or "—"
        if s.detail:
            result = f"{result}: {s.detail}"
        table.add_row(
            s.source, format_duration(s.interval), when(s.last_run), result, str(s.new_articles), when(s.next_run)
        )
    return table
