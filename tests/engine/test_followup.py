"""What the bot offers to ask next under an answer."""

from __future__ import annotations

from bot.engine import followup
from bot.engine.matcher import Matcher


def test_every_entry_offers_up_to_three_others_its_related_list_first(matcher: Matcher) -> None:
    entries = matcher.knowledge.entries
    for entry in entries.values():
        offered = followup.next_questions(matcher, entry)
        ids = [e.id for e in offered]
        assert 1 <= len(offered) <= 3 and entry.id not in ids and len(set(ids)) == len(ids)
        related = [i for i in entry.related if i in entries][:3]
        assert ids[: len(related)] == related
        assert all(e.topic == entry.topic for e in offered[len(related) :])
