"""What `spacebot watch` remembers between rounds, and the store it remembers it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Validators:
    """How to tell that a source has not changed since it was last ingested.

    etag, last_modified: the server's, sent back as If-None-Match / If-Modified-Since.
    digest: sha256 of the last body (servers that send neither), or of a folder's file listing.
    """

    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None


@dataclass
class SourceStatus:
    """One watched source's schedule and last result, as `spacebot sources` shows it.

    result: "ok", "unchanged", "partial" (some entries failed) or "failed" (the source itself).
    failures: consecutive failed runs (sets the backoff; 0 after a success).
    Times are seconds since the epoch.
    """

    source: str
    interval: float
    last_run: float | None = None
    result: str | None = None
    detail: str = ""
    new_articles: int = 0
    next_run: float | None = None
    failures: int = 0

    def to_dict(self) -> dict:
        from datetime import UTC, datetime

        def iso(ts: float | None) -> str | None:
            return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None

        return {
            "source": self.source,
            "every_seconds": self.interval,
            "last_run": iso(self.last_run),
            "result": self.result,
            "detail": self.detail,
            "new_articles": self.new_articles,
            "next_run": iso(self.next_run),
            "failures": self.failures,
        }


class WatchState(Protocol):
    """The state store's side of watching (bot/state/watch_state.py implements it)."""

    def validators(self, locator: str) -> Validators | None: ...

    def save_validators(self, locator: str, validators: Validators) -> None: ...

    def entry_versions(self, feed: str) -> dict[str, str]: ...

    def save_entry_versions(self, feed: str, versions: dict[str, str]) -> None: ...

    def status(self, source: str) -> SourceStatus | None: ...

    def save_status(self, status: SourceStatus) -> None: ...

    def statuses(self) -> list[SourceStatus]: ...
