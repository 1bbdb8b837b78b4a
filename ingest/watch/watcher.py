"""The watch loop: run each source when it is due, remember how it went, sleep until the next one.

Time comes from an injectable `clock` (and the loop's `sleep`), so schedules and backoff are
tested without waiting. Sources run one after another; a failing one is logged and backs off
while the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from ingest.watch.durations import format_duration
from ingest.watch.records import SourceStatus, WatchState
from ingest.watch.schedule import after_run, backing_off
from ingest.watch.source_list import WatchSource
from ingest.watch.source_round import Outcome


class Watcher:
    """Runs `run_source(name) -> Outcome` for each of `sources` on its schedule.

    A source runs at once when the watcher starts, unless it is backing off after failures
    (the state store remembers that across restarts and `--once` runs).
    log: called with each line to show (one per source run, plus one per failed input).
    """

    def __init__(
        self,
        sources: list[WatchSource],
        run_source: Callable[[str], Outcome],
        state: WatchState,
        *,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = print,
    ):
        self.sources = sources
        self.run_source = run_source
        self.state = state
        self.clock = clock
        self.log = log
        now = clock()
        self.status: dict[str, SourceStatus] = {}
        self.next_run: dict[str, float] = {}
        for source in sources:
            stored = state.status(source.name)
            status = replace(stored, interval=source.interval) if stored else SourceStatus(source.name, source.interval)
            self.status[source.name] = status
            self.next_run[source.name] = status.next_run if backing_off(stored, now) else now

    def run(self, source: WatchSource) -> SourceStatus:
        """Run one source now and record how it went."""
        started = self.clock()
        outcome = self.run_source(source.name)
        finished = self.clock()
        status = after_run(
            self.status[source.name],
            started=started,
            finished=finished,
            result=outcome.result,
            new=outcome.new,
            detail=outcome.detail,
        )
        self.state.save_status(status)
        self.status[source.name] = status
        self.next_run[source.name] = status.next_run
        for line in describe(source.name, outcome, status, finished):
            self.log(line)
        return status

    def run_due(self) -> list[SourceStatus]:
        """Run every source whose time has come (in the order they were given)."""
        now = self.clock()
        return [self.run(s) for s in self.sources if self.next_run[s.name] <= now]

    def run_once(self) -> list[SourceStatus]:
        """One round (`--once`): every source, except those backing off after failures (said in a line)."""
        now, done = self.clock(), []
        for source in self.sources:
            status = self.status[source.name]
            if backing_off(status, now):
                self.log(
                    f"{source.name}: skipped, backing off after {status.failures} failures until {_at(status.next_run)}"
                )
                continue
            done.append(self.run(source))
        return done

    def seconds_to_next(self) -> float:
        """How long until the next source is due (0 when one is due now)."""
        return max(0.0, min(self.next_run.values(), default=0.0) - self.clock())

    def run_forever(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Run what is due, sleep until the next, forever (until Ctrl-C or SIGTERM)."""
        while True:
            self.run_due()
            sleep(self.seconds_to_next())


def describe(source: str, outcome: Outcome, status: SourceStatus, now: float) -> list[str]:
    """The log lines for one run: one for the source, then one per input that failed."""
    wait = format_duration(status.next_run - now)
    if outcome.result == "failed":
        streak = f", {status.failures} failures in a row" if status.failures > 1 else ""
        return [f"{source}: failed: {outcome.detail}; retry in {wait}{streak}"]
    if outcome.result == "unchanged":
        return [f"{source}: unchanged; next run in {wait}"]
    counts = f"{outcome.new} new, {outcome.changed} changed, {outcome.unchanged} unchanged"
    failed = f", {len(outcome.errors)} failed" if outcome.errors else ""
    head = f"{source}: {counts}{failed} ({outcome.chunks} chunks, {outcome.seconds:.1f} s); next run in {wait}"
    return [head, *(f"  failed: {e}" for e in outcome.errors)]


def _at(ts: float | None) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts or 0, UTC).isoformat(timespec="seconds")
