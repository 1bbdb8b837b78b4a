"""When a watched source runs next: after its interval, or later after failures (exponential backoff)."""

from __future__ import annotations

from dataclasses import replace

from ingest.watch.records import SourceStatus

# A failing source waits interval x 1, 2, 4, 8, 8, ... (issue 12: "backoff up to its interval x 8").
BACKOFF_CAP = 8


def retry_delay(interval: float, failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures (0: a success, the plain interval)."""
    return interval * min(2 ** max(failures - 1, 0), BACKOFF_CAP)


def after_run(
    status: SourceStatus, *, started: float, finished: float, result: str, new: int, detail: str = ""
) -> SourceStatus:
    """The status once a run that began at `started` ended at `finished` with `result`."""
    failures = status.failures + 1 if result == "failed" else 0
    return replace(
        status,
        last_run=started,
        result=result,
        detail=detail,
        new_articles=new,
        failures=failures,
        next_run=finished + retry_delay(status.interval, failures),
    )


def backing_off(status: SourceStatus | None, now: float) -> bool:
    """True while a source that failed waits for its retry (a fresh start does not skip that wait)."""
    return bool(status and status.failures and status.next_run is not None and status.next_run > now)
