"""Brief schedules: `daily HH:MM [TZ]` and `weekly DAY HH:MM [TZ]`, the slot due now, the next one.

A slot is a scheduled time as epoch seconds; `ChannelStore.claim_brief(channel, slot)` makes it
posted once across replicas. A slot is still due for `GRACE_SECONDS` after its time (a process
restarting a little late still posts it; one started hours later does not post a stale brief).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.state.channels import BriefSchedule

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
GRACE_SECONDS = 3600.0


class ScheduleError(ValueError):
    """A schedule that cannot be read (the message is the one line the user sees)."""


def parse_schedule(channel: str, words: list[str]) -> BriefSchedule:
    """`["daily", "08:30", "Europe/Paris"]` or `["weekly", "mon", "08:30"]` as a `BriefSchedule` (TZ default UTC)."""
    usage = (
        "write `brief daily HH:MM [TZ]` or `brief weekly DAY HH:MM [TZ]`, e.g. `brief weekly mon 08:30 Europe/Paris`"
    )
    if not words or words[0] not in ("daily", "weekly"):
        raise ScheduleError(usage)
    cadence, rest, weekday = words[0], words[1:], None
    if cadence == "weekly":
        if not rest:
            raise ScheduleError(usage)
        day = rest.pop(0).lower()
        matches = [i for i, d in enumerate(DAYS) if len(day) >= 3 and d.startswith(day)]
        if len(matches) != 1:
            raise ScheduleError(f"'{day}' is not a day of the week (mon … sun)")
        weekday = matches[0]
    if not rest or len(rest) > 2:
        raise ScheduleError(usage)
    hour, minute = _clock(rest[0])
    tz = rest[1] if len(rest) == 2 else "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"'{tz}' is not a time zone (use a name like UTC, Europe/Paris, America/New_York)"
        ) from None
    return BriefSchedule(channel, cadence, weekday, hour, minute, tz)


def _clock(text: str) -> tuple[int, int]:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ScheduleError(f"'{text}' is not a time of day: write it as HH:MM, e.g. 08:30")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ScheduleError(f"'{text}' is not a time of day: write it as HH:MM, e.g. 08:30")
    return hour, minute


def last_slot(schedule: BriefSchedule, now: float) -> float:
    """The latest scheduled time at or before `now` (epoch seconds)."""
    zone = ZoneInfo(schedule.tz)
    local = datetime.fromtimestamp(now, zone)
    slot = local.replace(hour=schedule.hour, minute=schedule.minute, second=0, microsecond=0)
    if schedule.cadence == "weekly":
        slot -= timedelta(days=(local.weekday() - (schedule.weekday or 0)) % 7)
    while slot.timestamp() > now:
        slot -= timedelta(days=7 if schedule.cadence == "weekly" else 1)
    return slot.timestamp()


def next_slot(schedule: BriefSchedule, now: float) -> float:
    """The first scheduled time after `now`."""
    step = 7 if schedule.cadence == "weekly" else 1
    slot = datetime.fromtimestamp(last_slot(schedule, now), ZoneInfo(schedule.tz)) + timedelta(days=step)
    return slot.timestamp()


def due_slot(schedule: BriefSchedule, now: float) -> float | None:
    """The slot to post now (the last one, if within `GRACE_SECONDS` and not before the schedule was set),
    else None."""
    slot = last_slot(schedule, now)
    return slot if now - slot <= GRACE_SECONDS and slot >= schedule.created_at else None


def describe(schedule: BriefSchedule) -> str:
    """`daily at 08:30 Europe/Paris` / `every Monday at 08:30 UTC`."""
    at = f"{schedule.hour:02d}:{schedule.minute:02d} {schedule.tz}"
    if schedule.cadence == "weekly":
        return f"every {DAYS[schedule.weekday or 0].capitalize()} at {at}"
    return f"daily at {at}"
