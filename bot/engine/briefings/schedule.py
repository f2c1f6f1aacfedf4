"""Subscription requests and schedules: parsed from what an admin typed, stored as a spec, and
asked when the next briefing is due."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.storage import Subscription

CATCH_UP = dt.timedelta(hours=3)
"""How late a scheduled briefing may still go out: at the first check after its time, or at
start if the bot was down then, as long as it is at most three hours late. Older ones are
skipped, and only the latest occurrence is ever considered, so an outage never causes a burst."""

ALL_WORDS = frozenset({"all", "any", "everything", "all-topics"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_TIME = (9, 0)
DEFAULT_ZONE = "UTC"
_TIME = re.compile(r"(\d{1,2})[:.h](\d{2})")

SUBSCRIBE_USAGE = (
    "/subscribe [topic|all] [daily HH:MM | weekly DAY HH:MM] [time zone]\n"
    "Defaults: all topics in rotation, daily at 09:00, UTC. "
    "Time zones are names like Europe/Berlin or America/New_York."
)
SUBSCRIBE_EXAMPLES = (
    "/subscribe",
    "/subscribe camps weekly mon 08:30 Europe/Berlin",
    "/subscribe all daily 18:00 America/New_York",
)


# -- schedules ------------------------------------------------------------------------------------
class UsageError(ValueError):
    """What was wrong with a /subscribe request, in words for the person who typed it."""


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def zone_name(text: str) -> str | None:
    """The canonical zoneinfo name for what a user typed (any case), or None."""
    if text.casefold() in ("utc", "gmt", "z"):
        return "UTC"
    name = _zones().get(text.casefold())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def weekday(text: str) -> int | None:
    word = text.casefold()
    if len(word) < 3:
        return None
    return next((i for i, day in enumerate(WEEKDAYS) if day.startswith(word)), None)


@dataclass(frozen=True)
class Schedule:
    hour: int
    minute: int
    weekday: int | None = None  # None: every day
    timezone: str = DEFAULT_ZONE

    @property
    def spec(self) -> str:
        """How it is stored: 'daily 09:00' or 'weekly mon 09:00' (the zone has its own column)."""
        at = f"{self.hour:02d}:{self.minute:02d}"
        return (
            f"daily {at}" if self.weekday is None else f"weekly {WEEKDAYS[self.weekday][:3]} {at}"
        )

    @classmethod
    def from_spec(cls, spec: str, timezone: str) -> Schedule:
        words = spec.split()
        hour, minute = (int(p) for p in words[-1].split(":"))
        day = weekday(words[1]) if words[0] == "weekly" else None
        return cls(hour, minute, day, timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        at = f"{self.hour:02d}:{self.minute:02d}"
        when = "every day" if self.weekday is None else f"every {WEEKDAYS[self.weekday].title()}"
        return f"{when} at {at} ({self.timezone})"

    def _at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(self.hour, self.minute), tzinfo=self.zone)

    def _days(self, now: dt.datetime, step: int) -> list[dt.date]:
        today = now.astimezone(self.zone).date()
        days = [today + dt.timedelta(days=step * k) for k in range(-1, 9)]
        return [d for d in days if self.weekday is None or d.weekday() == self.weekday]

    def latest(self, now: dt.datetime) -> dt.datetime:
        """The most recent time this schedule fired, at or before now (wall-clock, DST-aware)."""
        return next(self._at(d) for d in self._days(now, -1) if self._at(d) <= now)

    def following(self, now: dt.datetime) -> dt.datetime:
        """The next time it fires, strictly after now."""
        return next(self._at(d) for d in self._days(now, 1) if self._at(d) > now)


def parse_request(args: Sequence[str]) -> tuple[str | None, Schedule]:
    """`[topic|all] [daily HH:MM | weekly DAY HH:MM] [time zone]` -> (topic text or None for
    all, schedule). The topic is every word before the first one about time; after it the
    words may come in any order. Raises UsageError with what to fix."""
    words = [w.strip() for w in args if w.strip()]
    first = next((i for i, w in enumerate(words) if _is_time_word(w)), len(words))
    topic = " ".join(words[:first]) or None
    if topic is not None and topic.casefold() in ALL_WORDS | {"all topics"}:
        topic = None
    kind: str | None = None
    day: int | None = None
    at: tuple[int, int] | None = None
    zone: str | None = None
    for word in words[first:]:
        lowered = word.casefold()
        if lowered in ("daily", "weekly"):
            if kind is not None:
                raise UsageError("Say daily or weekly once.")
            kind = lowered
        elif weekday(word) is not None:
            if day is not None:
                raise UsageError("Give one day for a weekly briefing.")
            day = weekday(word)
        elif _TIME.fullmatch(word):
            if at is not None:
                raise UsageError("Give one time.")
            at = _parse_time(word)
        elif zone_name(word) is not None:
            if zone is not None:
                raise UsageError("Give one time zone.")
            zone = zone_name(word)
        elif "/" in word:
            raise UsageError(
                f"I don't know the time zone “{word}”. Use a name like Europe/Berlin or UTC."
            )
        else:
            raise UsageError(f"I don't understand “{word}”.")
    if kind == "daily" and day is not None:
        raise UsageError("A daily briefing has no day; use weekly DAY HH:MM.")
    if kind is None and day is not None:
        kind = "weekly"
    if kind == "weekly" and day is None:
        raise UsageError("A weekly briefing needs a day, for example: weekly mon 09:00.")
    hour, minute = at or DEFAULT_TIME
    return topic, Schedule(hour, minute, day, zone or DEFAULT_ZONE)


def _is_time_word(word: str) -> bool:
    return (
        word.casefold() in ("daily", "weekly")
        or weekday(word) is not None
        or bool(_TIME.fullmatch(word))
        or zone_name(word) is not None
        or "/" in word
    )


def _parse_time(word: str) -> tuple[int, int]:
    match = _TIME.fullmatch(word)
    assert match is not None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise UsageError(f"“{word}” is not a time of day; use HH:MM, 00:00 to 23:59.")
    return hour, minute


def due_at(subscription: Subscription, now: dt.datetime) -> dt.datetime | None:
    """The occurrence to send now, if any: the latest one, if it came after the subscription
    started (or was last sent) and is at most CATCH_UP late."""
    if subscription.paused:
        return None
    schedule = Schedule.from_spec(subscription.schedule, subscription.timezone)
    latest = schedule.latest(now)
    since = max(subscription.last_sent or 0.0, subscription.created_at)
    if latest.timestamp() > since and now - latest <= CATCH_UP:
        return latest
    return None
