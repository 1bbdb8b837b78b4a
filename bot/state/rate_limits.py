"""Rate limits: at most N hits per key (a token name, a client address, a Slack user) per window.

`RateLimiter.hit(key)` counts one hit and answers `None` (go on) or a `RetryAfter`
(refuse; try again in that many seconds). One limiter serves both faces: the API
(`SPACEBOT_API_RATE`, per token name or client address) and Slack
(`SPACEBOT_SLACK_RATE`, per user).

Counting is a fixed window: the window of `period` seconds a hit falls in
(`floor(now / period)`) has a counter, and a hit over the limit is refused
until the next window begins. A burst of up to twice the limit can straddle a
window boundary; in exchange one hit is one atomic upsert on one row.

With the state database (SQLite file or PostgreSQL) the counters are rows of
`rate_counters`, so every process and every replica sharing the database
shares the limit; without one (`db=None`) they live in this process's memory.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.state.db import Clock, Database, as_database

UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
SWEEP_EVERY = 300.0  # seconds between deletions of counters of windows long gone, per process

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    """`limit` hits per `period` seconds."""

    limit: int
    period: float

    @classmethod
    def parse(cls, text: str, variable: str = "rate") -> Rate:
        """`60/minute`, `2/second`, `1000/day`, `10/5minutes`; anything else is a ValueError naming `variable`."""
        match = _RATE.match(text or "")
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{variable}={text!r}: expected hits per period, e.g. 60/minute or 2/second")
        count = int(match.group(2) or 1)
        return cls(int(match.group(1)), count * UNITS[match.group(3).lower()])


@dataclass(frozen=True)
class RetryAfter:
    """A refused hit: the window resets in `seconds`."""

    seconds: float

    @property
    def header(self) -> str:
        """The `Retry-After` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.seconds)))


class RateLimiter:
    """Counts hits per key against one `Rate`, in the state database or (db=None) in memory."""

    def __init__(
        self, rate: Rate, db: Database | str | Path | None = None, *, scope: str = "", clock: Clock | None = None
    ):
        """scope: prefixed to every key, so the API's and Slack's counters never mix. `db` is
        opened on the first hit, so a server starts while its database is down."""
        import time

        self.rate = rate
        self.scope = scope
        self._target, self._db = db, None
        self._clock = clock or time.time
        self._memory: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._last_sweep = float("-inf")

    def hit(self, key: str) -> RetryAfter | None:
        """Count one hit for `key`: None when it is within the limit, else how long until it would be."""
        now = self._clock()
        window = math.floor(now / self.rate.period) * self.rate.period
        full_key = f"{self.scope}:{key}"
        if self._target is not None:
            hits = self._count_in_db(full_key, window, now)
        else:
            hits = self._count_in_memory(full_key, window)
        if hits <= self.rate.limit:
            return None
        return RetryAfter(window + self.rate.period - now)

    @property
    def db(self) -> Database | None:
        """The state database (opened now if not yet), or None when counting in memory."""
        if self._db is None and self._target is not None:
            self._db = as_database(self._target, self._clock)
        return self._db

    def _count_in_memory(self, key: str, window: float) -> int:
        with self._lock:
            start, hits = self._memory.get(key, (window, 0))
            hits = hits + 1 if start == window else 1
            self._memory[key] = (window, hits)
            if len(self._memory) > 100_000:  # forget keys of windows gone by
                self._memory = {k: v for k, v in self._memory.items() if v[0] == window}
            return hits

    def _count_in_db(self, key: str, window: float, now: float) -> int:
        """One atomic upsert: the row's counter goes up, or starts again at 1 in a new window."""
        from sqlalchemy import case, delete

        from bot.state.schema import rate_counters as counters

        insert = self.db.insert(counters).values(key=key, window_start=window, hits=1)
        insert = insert.on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "hits": case((counters.c.window_start == window, counters.c.hits + 1), else_=1),
                "window_start": window,
            },
        ).returning(counters.c.hits)
        with self.db.begin() as connection:
            if now - self._last_sweep > SWEEP_EVERY:
                self._last_sweep = now
                connection.execute(delete(counters).where(counters.c.window_start < window - self.rate.period))
            return int(connection.execute(insert).scalar_one())


def limiter_from_setting(text: str | None, variable: str, state_url: str | None, scope: str) -> RateLimiter | None:
    """The limiter a setting asks for (`SPACEBOT_API_RATE=60/minute`), counting in the state database
    at `state_url` (None: in memory); None when the setting is empty. A bad value is a ValueError."""
    if not (text or "").strip():
        return None
    return RateLimiter(Rate.parse(text, variable), state_url, scope=scope)
