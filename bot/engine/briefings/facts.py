"""Facts and briefings: a fact is one citation of the FAQ, its quote verbatim from an article
(the loader checks that), so every line of a briefing can be found in its source. Each chat
sees every fact of a topic before any repeats."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from bot.engine.knowledge import Knowledge
from bot.engine.models import Source, Topic
from bot.text import fold

log = logging.getLogger(__name__)
MIN_FACTS, TARGET_FACTS, MAX_FACTS = 3, 4, 6
TOPIC_CUTOFF = 80


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


def subject(knowledge: Knowledge, topic_id: str) -> frozenset[str]:
    """The words a quote must use to be a fact of a topic about one person or thing: its
    title when the title is a name (every word capitalised) that each of its entries asks
    about ("Otto Warmbier"). Empty for a topic about an issue ("Political prison camps").

    An answer cites the scene around its subject too (Ji Sung-ho's moment at the State of the
    Union, before the ovation for Warmbier's parents); read alone in a briefing on Warmbier,
    such a quote would be a fact about someone else."""
    title = knowledge.topics[topic_id].title
    if not all(word[:1].isupper() for word in title.split()):
        return frozenset()
    tokens = knowledge.normalizer.tokens
    words = frozenset(tokens(title))
    entries = knowledge.topic_entries(topic_id)
    if not words or not all(words & set(tokens(e.questions[0])) for e in entries):
        return frozenset()
    return words


def topic_facts(knowledge: Knowledge) -> dict[str, list[Fact]]:
    """Topic id -> its facts in FAQ order; a quote contained in a longer one from the same
    source in the same topic is left out, so a briefing never says the same thing twice, and
    a topic about one person or thing holds only the quotes that name it (`subject`)."""
    result: dict[str, list[Fact]] = {}
    tokens = knowledge.normalizer.tokens
    for topic_id in knowledge.topics:
        named = subject(knowledge, topic_id)
        cited = [
            (entry.id, c.source, c.quote)
            for entry in knowledge.topic_entries(topic_id)
            for c in entry.citations
            if c.source in knowledge.sources and not c.attribution
            if not named or named & set(tokens(c.quote))
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
