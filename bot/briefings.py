"""Briefings: a few sourced facts on one topic, on demand or on a schedule.

A fact is one citation of the FAQ: its quote is verbatim from an article (the loader checks
that), so every line of a briefing can be found in its source. This module composes briefings,
keeps each chat's rotation, parses subscription requests and decides when one is due. It
knows nothing of Telegram; bot/subscriptions.py is the glue."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, utils

from bot import render
from bot.knowledge import Knowledge
from bot.models import Source, Topic
from bot.store import Store, Subscription
from bot.text import fold

log = logging.getLogger(__name__)
MIN_FACTS, TARGET_FACTS, MAX_FACTS = 3, 4, 6
TOPIC_CUTOFF = 80
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


# -- facts and briefings --------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    id: str
    topic: str
    entry: str
    source: Source
    quote: str


@dataclass(frozen=True)
class Briefing:
    topic: Topic
    facts: tuple[Fact, ...]

    @property
    def sources(self) -> list[Source]:
        """Each source once, in the order the facts cite them."""
        seen: dict[str, Source] = {}
        for fact in self.facts:
            seen.setdefault(fact.source.id, fact.source)
        return list(seen.values())


def fact_id(source_id: str, quote: str) -> str:
    """Stable across reloads and shared between topics: the same quote is the same fact."""
    digest = hashlib.sha1(fold(quote).casefold().encode()).hexdigest()[:12]
    return f"{source_id}:{digest}"


def topic_facts(knowledge: Knowledge) -> dict[str, list[Fact]]:
    """Topic id -> its facts in FAQ order; a quote contained in a longer one from the same
    source in the same topic is left out, so a briefing never says the same thing twice."""
    result: dict[str, list[Fact]] = {}
    for topic_id in knowledge.topics:
        cited = [
            (entry.id, c.source, c.quote)
            for entry in knowledge.topic_entries(topic_id)
            for c in entry.citations
            if c.source in knowledge.sources
        ]
        folded = [(source, fold(quote).casefold()) for _, source, quote in cited]
        facts: dict[str, Fact] = {}
        for (entry_id, source, quote), (_, text) in zip(cited, folded, strict=True):
            inside_longer = any(s == source and text in t and text != t for s, t in folded)
            fid = fact_id(source, quote)
            if not inside_longer and fid not in facts:
                facts[fid] = Fact(fid, topic_id, entry_id, knowledge.sources[source], quote)
        if facts:
            result[topic_id] = list(facts.values())
    return result


# -- rotation -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rotation:
    """A chat's place in the rotation: the facts it has seen this round, and the next topic."""

    seen: frozenset[str] = frozenset()
    cursor: int = 0


@dataclass(frozen=True)
class Pick:
    briefing: Briefing
    rotation: Rotation


def home_facts(facts: dict[str, list[Fact]]) -> dict[str, list[Fact]]:
    """Each fact under the first topic that cites it. The rotation over all topics walks this
    partition, so a quote that two topics share still comes round only once."""
    homed: set[str] = set()
    homes: dict[str, list[Fact]] = {}
    for topic_id, pool in facts.items():
        own = [f for f in pool if f.id not in homed]
        homed |= {f.id for f in own}
        if own:
            homes[topic_id] = own
    return homes


def pick(knowledge: Knowledge, rotation: Rotation, topic_id: str | None = None) -> Pick:
    """The next briefing for a chat, and its rotation once that briefing is shown.

    A chat sees every fact once before any repeats. Without a topic (or with one that no
    longer exists), topics take turns from the cursor, skipping those with nothing new; when
    every fact has been seen a new round starts. With a topic, only that topic's facts count,
    and its round restarts when they are used up. Unseen facts go out four at a time, or all
    at once if six or fewer, which never strands one or two. Only when something else did
    (a /briefing TOPIC in between, or an edit of the FAQ) is a briefing topped up to three
    with facts from the same topic the chat has seen."""
    facts = topic_facts(knowledge)
    if not facts:
        raise ValueError("the knowledge base has no citations to brief from")
    seen = set(rotation.seen)
    cursor = rotation.cursor % len(facts)
    if topic_id in facts:
        pool = facts[topic_id]
        if all(f.id in seen for f in pool):
            seen -= {f.id for f in pool}  # this topic's round is over
    else:
        homes = home_facts(facts)
        if all(f.id in seen for own in homes.values() for f in own):
            seen = set()  # every fact has been shown: the next round starts
        topic_id = _next_topic(list(facts), homes, seen, cursor)
        cursor = (list(facts).index(topic_id) + 1) % len(facts)
        pool = homes[topic_id]
    unseen = [f for f in pool if f.id not in seen]
    chosen = unseen if len(unseen) <= MAX_FACTS else unseen[:TARGET_FACTS]
    if len(chosen) < MIN_FACTS:
        rest = sorted((f for f in facts[topic_id] if f not in chosen), key=lambda f: f.id in seen)
        chosen = chosen + rest[: MIN_FACTS - len(chosen)]
    seen |= {f.id for f in chosen}
    briefing = Briefing(knowledge.topics[topic_id], tuple(chosen))
    return Pick(briefing, Rotation(frozenset(seen), cursor))


def _next_topic(order: list[str], homes: dict[str, list[Fact]], seen: set[str], cursor: int) -> str:
    """From the cursor on, the first topic with a full briefing's worth of unseen facts, else
    the first with any."""

    def unseen(topic: str) -> int:
        return sum(f.id not in seen for f in homes.get(topic, []))

    turns = [order[(cursor + k) % len(order)] for k in range(len(order))]
    best = next((t for t in turns if unseen(t) >= MIN_FACTS), None)
    return best or next(t for t in turns if unseen(t))


# -- finding a topic from what a user typed -------------------------------------------------------
@dataclass(frozen=True)
class TopicMatch:
    topic: Topic | None
    candidates: tuple[Topic, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.topic is None and len(self.candidates) > 1


def find_topic(knowledge: Knowledge, query: str) -> TopicMatch:
    """A topic by id or title, forgiving typos; two topics that fit equally well are
    ambiguous rather than a coin toss."""
    text = fold(query).casefold().strip()
    for topic in knowledge.topics.values():
        if text in (topic.id, topic.title.casefold()):
            return TopicMatch(topic)
    query_key = utils.default_process(text)
    best: dict[str, float] = {}
    for topic in knowledge.topics.values():
        for choice in (topic.id.replace("-", " "), topic.title):
            best[topic.id] = max(best.get(topic.id, 0.0), _closeness(query_key, choice))
    best = {t: score for t, score in best.items() if score >= TOPIC_CUTOFF}
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked:
        return TopicMatch(None)
    close = [knowledge.topics[t] for t, score in ranked if score >= ranked[0][1] - 2]
    if len(close) > 1:
        return TopicMatch(None, tuple(close))
    return TopicMatch(close[0])


def _closeness(query: str, choice: str) -> float:
    """Typos (ratio), or the query as a part of the title or the title's key word in the query
    (partial ratio, for four letters or more: 'in' is part of everything)."""
    choice = utils.default_process(choice)
    score = fuzz.ratio(query, choice)
    if min(len(query), len(choice)) >= 4:
        score = max(score, fuzz.partial_ratio(query, choice))
    return score


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


# -- the service as the glue and the CLI use it ---------------------------------------------------
@dataclass(frozen=True)
class Due:
    subscription: Subscription
    occurrence: dt.datetime


class Briefings:
    """Briefings for chats: their rotation and subscriptions in the store, the facts from
    whatever knowledge is current (a reload between two briefings is picked up)."""

    def __init__(self, knowledge: Callable[[], Knowledge], store: Store) -> None:
        self._knowledge = knowledge
        self.store = store

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge()

    def find_topic(self, query: str) -> TopicMatch:
        return find_topic(self.knowledge, query)

    def next_for(self, chat_id: int, topic_id: str | None = None) -> Pick:
        seen, cursor = self.store.rotation(chat_id)
        return pick(self.knowledge, Rotation(seen, cursor), topic_id)

    def shown(self, chat_id: int, chosen: Pick) -> None:
        """Record that the chat has seen this briefing: call it after the send succeeded."""
        self.store.save_rotation(chat_id, chosen.rotation.seen, chosen.rotation.cursor)

    def subscribe(
        self, chat_id: int, topic_id: str | None, schedule: Schedule, now: float | None = None
    ) -> Subscription:
        return self.store.subscribe(chat_id, topic_id, schedule.spec, schedule.timezone, now)

    def due(self, now: float | None = None) -> list[Due]:
        moment = dt.datetime.fromtimestamp(now or time.time(), dt.UTC)
        found = []
        for subscription in self.store.subscriptions():
            try:
                occurrence = due_at(subscription, moment)
            except (ValueError, ZoneInfoNotFoundError) as exc:  # one bad row must not stop all
                log.error("subscription of chat %s is unreadable: %s", subscription.chat_id, exc)
                continue
            if occurrence is not None:
                found.append(Due(subscription, occurrence))
        return found

    def describe(self, subscription: Subscription) -> str:
        """'Political prison camps, every day at 09:00 (UTC)', in plain text."""
        topic = self.knowledge.topics.get(subscription.topic or "")
        what = topic.title if topic else "all topics in rotation"
        schedule = Schedule.from_spec(subscription.schedule, subscription.timezone)
        return f"{what}, {schedule.describe()}"

    @staticmethod
    def next_time(subscription: Subscription, now: float | None = None) -> dt.datetime:
        schedule = Schedule.from_spec(subscription.schedule, subscription.timezone)
        return schedule.following(dt.datetime.fromtimestamp(now or time.time(), dt.UTC))


# -- rendering ------------------------------------------------------------------------------------
def _quoted(quote: str) -> str:
    """The quote as the FAQ has it, in quotation marks, with an ellipsis where it starts or
    stops mid-sentence."""
    text = quote.strip()
    lead = "\u2026" if text[:1].islower() else ""
    tail = "" if text[-1:] in ".!?\"'\u201d\u2019)" else "\u2026"
    return f"\u201c{lead}{text}{tail}\u201d"


def attribution(source: Source) -> str:
    return f"{source.outlet}, {render.human_date(source)}"


def briefing_html(briefing: Briefing) -> str:
    """One Telegram message: title, facts each with outlet and date, then the links."""
    facts = list(briefing.facts)
    while True:
        shown = Briefing(briefing.topic, tuple(facts))
        parts = [f"<b>Briefing: {escape(briefing.topic.title)}</b>"]
        for fact in facts:
            parts += [
                "",
                f"• {escape(_quoted(fact.quote))}",
                f"<i>— {escape(attribution(fact.source))}</i>",
            ]
        links = " · ".join(
            f'<a href="{escape(s.url)}">{escape(s.outlet)}</a>' for s in shown.sources
        )
        parts += ["", f"<b>Sources:</b> {links}"]
        html = "\n".join(parts)
        if len(html) <= render.TELEGRAM_LIMIT or len(facts) == 1:
            return html
        facts.pop()  # never with today's quotes, but never send a 400


def briefing_text(briefing: Briefing) -> str:
    """The same briefing for a terminal."""
    lines = [f"Briefing: {briefing.topic.title}"]
    for fact in briefing.facts:
        lines += ["", f"\u2022 {_quoted(fact.quote)}", f"  \u2014 {attribution(fact.source)}"]
    lines += ["", "Sources:"]
    lines += [f"  {s.outlet}: {s.url}" for s in briefing.sources]
    return "\n".join(lines)


def topics_text(topics: Sequence[Topic]) -> str:
    return "\n".join(f"{t.id} \u2014 {t.title}" for t in topics)


def topics_html(topics: Sequence[Topic]) -> str:
    return "\n".join(f"<code>{escape(t.id)}</code> — {escape(t.title)}" for t in topics)


def unknown_topic_html(query: str, match: TopicMatch, knowledge: Knowledge) -> str:
    if match.ambiguous:
        head = f"“{escape(query)}” fits more than one topic. Which one?"
        return f"{head}\n{topics_html(match.candidates)}"
    head = f"I have no topic called “{escape(query)}”. The topics are:"
    return f"{head}\n{topics_html(list(knowledge.topics.values()))}"


def usage_html(problem: str | None = None) -> str:
    lines = [escape(problem), ""] if problem else []
    usage, defaults = SUBSCRIBE_USAGE.split("\n", 1)
    lines += [f"<b>Usage:</b> <code>{escape(usage)}</code>", escape(defaults), "Examples:"]
    lines += [f"<code>{escape(example)}</code>" for example in SUBSCRIBE_EXAMPLES]
    return "\n".join(lines)
