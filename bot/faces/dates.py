"""The one parser of the dates a person types for `--since` / `--until` (CLI) and `since` / `until` (API).

An ISO date (`2024-01-31`) is read exactly; anything else goes to `dateparser`
(imported only then), English, relative to today and preferring the past:
`7d`, `2w`, `3 months`, `last month`, `yesterday`, `March 2024`. A bare count
and unit (`7d`, `2w`, `1y`) means that long ago. A named month or year without
a day means its first day (`March 2024` is 2024-03-01, `2024` is 2024-01-01).
Something shaped like an ISO date that is not one (`2024-13-01`) is an error,
not a guess.
"""

from __future__ import annotations

import re
from datetime import date

EXAMPLES = "2024-01-31, 7d, 2w or last month"
_COUNT_AND_UNIT = re.compile(r"^\d+\s*[a-z]+$")  # "7d", "2w", "10 days": a span back from today
_BARE_YEAR = re.compile(r"^\d{4}$")
_ISO_SHAPED = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_YEAR = re.compile(r"\b\d{4}\b")


class DateError(ValueError):
    """A value that is not a date: one line naming it and the forms that are."""


def parse_day(value: str, today: date | None = None) -> date:
    """The date `value` names; relative forms count back from `today` (default: the clock's).

    Raises `DateError` ("'soon' is not a date like 2024-01-31, 7d, 2w or last month").
    """
    text = (value or "").strip().lower()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if _BARE_YEAR.match(text):
        return date(int(text), 1, 1)
    if _COUNT_AND_UNIT.match(text):
        text += " ago"
    parsed = _dateparser(text, today or date.today()) if text and not _ISO_SHAPED.match(text) else None
    if parsed is None:
        raise DateError(f"{value!r} is not a date like {EXAMPLES}")
    return parsed


def _dateparser(text: str, today: date) -> date | None:
    from datetime import datetime

    import dateparser

    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "PREFER_DATES_FROM": "past",
        # "March 2024" -> the 1st; "3 months ago" -> today's day of that month
        "PREFER_DAY_OF_MONTH": "first" if _YEAR.search(text) else "current",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    return parsed.date() if parsed is not None else None
