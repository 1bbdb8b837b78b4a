"""Durations as people type them: `90s`, `15m`, `2h`, `1d`, or a sum such as `1h30m`."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds in `text`; a `ValueError` whose message names the text when it is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 2h or 1h30m")
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form among s, m, h, d (`900` -> `15m`, `5400` -> `1h30m`)."""
    seconds = round(seconds)
    out = []
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"
