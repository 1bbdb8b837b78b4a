"""The one parser of typed dates (`--since` / `--until`, the API's `since` / `until`)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.faces.dates import DateError, parse_day

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-31", date(2024, 1, 31)),
        (" 2024-01-31 ", date(2024, 1, 31)),
        ("7d", date(2026, 11, 26)),
        ("2w", date(2026, 11, 19)),
        ("1y", date(2025, 12, 3)),
        ("10 days", date(2026, 11, 23)),
        ("last month", date(2026, 11, 3)),
        ("yesterday", date(2026, 12, 2)),
        ("March 2024", date(2024, 3, 1)),
        ("2024", date(2024, 1, 1)),
    ],
)
def test_iso_and_relative_forms(value, expected):
    assert parse_day(value, today=TODAY) == expected


@pytest.mark.parametrize("value", ["soon", "", "2024-13-01", "2024-02-30", "banana bread"])
def test_a_bad_value_is_one_line_naming_it(value):
    with pytest.raises(DateError) as info:
        parse_day(value, today=TODAY)
    assert str(info.value) == f"{value!r} is not a date like 2024-01-31, 7d, 2w or last month"
