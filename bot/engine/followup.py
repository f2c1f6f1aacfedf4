"""What to ask next, and what a short follow-up question means.

Both lean on the entry just answered: its `related` list and its topic's closest entries are
offered as next questions, and a short question that means nothing alone ("and in Hanoi?")
is read with that entry's topic and key words added. Matching a question on its own never
changes here; the context is tried only when the question alone is not answered."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher, Result, Status, asks, wants
from bot.engine.models import Entry
from bot.engine.normalize import words

FOLLOWUPS = 3


def next_questions(matcher: Matcher, entry: Entry, limit: int = FOLLOWUPS) -> list[Entry]:
    """The entry's `related` list first, then the entries of its topic closest to it."""
    entries = matcher.knowledge.entries
    chosen = [entries[i] for i in dict.fromkeys(entry.related) if i in entries and i != entry.id]
    if len(chosen) < limit:
        text = " ".join([entry.questions[0], *entry.keywords])
        ranked = [c.entry for c, _ in matcher.rank(text, matcher.tokens(text), len(entries))]
        topic = matcher.knowledge.topic_entries(entry.topic)
        for other in [*ranked, *topic]:
            if other.topic == entry.topic and other.id != entry.id and other not in chosen:
                chosen.append(other)
    return chosen[:limit]


SHORT_FOLLOWUP = 6  # words: "and in Hanoi?", "who said so?", "when was that?"
FOLLOW_UP = "follow-up"  # Result.reason of an answer found with the previous entry's help


def context_words(entry: Entry, knowledge: Knowledge) -> str:
    """What a follow-up leaves unsaid: the previous entry's topic and key words."""
    topic = knowledge.topics.get(entry.topic)
    return " ".join([topic.title if topic else "", *entry.keywords])


def vocabulary(entry: Entry, knowledge: Knowledge) -> set[str]:
    texts = [*entry.questions, *entry.keywords, entry.answer]
    return {token for text in texts for token in knowledge.normalizer.tokens(text)}


def continue_from(matcher: Matcher, alone: Result, previous: Entry) -> Result | None:
    """A short question not answered on its own, read as following on from `previous`.

    With no word of its own ("who said so?", "when was that?") it asks about the previous
    answer, whose text gives the time frame and whose sources say who: that entry again.
    Otherwise its words are matched with the previous entry's topic and key words added, and
    only a confident result counts: an answer (not a "did you mean") in the previous entry's
    topic or related list that uses every word the question brought."""
    if alone.status is Status.ANSWERED or alone.status is Status.SMALLTALK:
        return None
    if alone.reason in ("empty", "not-english", "injection", "not-covered", "beyond", "unasked"):
        return None  # nothing asked, not in English, not a question, declined by name or kind
    if len(words(alone.question)) > SHORT_FOLLOWUP:
        return None
    own = set(matcher.tokens(alone.question))
    if not own:
        if wants(alone.question) == "why" and not asks(previous, "why"):
            return None  # "why is that?" after an answer that gives no reasons: not it again
        return replace(matcher.answer_for(previous), question=alone.question, reason=FOLLOW_UP)
    read = matcher.match(f"{alone.question} {context_words(previous, matcher.knowledge)}")
    entry = read.entry
    if read.status is not Status.ANSWERED or entry is None:
        return None
    if entry.topic != previous.topic and entry.id not in previous.related:
        return None
    if not own <= vocabulary(entry, matcher.knowledge):
        return None
    return replace(read, question=alone.question, reason=FOLLOW_UP)
