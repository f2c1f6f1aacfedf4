"""What to ask next, and what a short follow-up question means.

Both lean on the entry just answered: its `related` list and its topic's closest entries are
offered as next questions, and a short question that means nothing alone ("and in Hanoi?")
is read with that entry's topic and key words added. Matching a question on its own never
changes here; the context is tried only when the question alone is not answered."""

from __future__ import annotations

from bot.engine.matcher import Matcher
from bot.engine.models import Entry

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
