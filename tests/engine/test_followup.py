"""What the bot offers to ask next under an answer."""

from __future__ import annotations

from bot.engine import followup
from bot.engine.matcher import Matcher, Status
from bot.engine.service import FaqService


def test_every_entry_offers_up_to_three_others_its_related_list_first(matcher: Matcher) -> None:
    entries = matcher.knowledge.entries
    for entry in entries.values():
        offered = followup.next_questions(matcher, entry)
        ids = [e.id for e in offered]
        assert 1 <= len(offered) <= 3 and entry.id not in ids and len(set(ids)) == len(ids)
        related = [i for i in entry.related if i in entries][:3]
        assert ids[: len(related)] == related
        assert all(e.topic == entry.topic for e in offered[len(related) :])


def test_a_follow_up_with_no_word_of_its_own_continues_the_previous_answer(
    matcher: Matcher,
) -> None:
    previous = matcher.knowledge.entries["warmbier-why-arrested"]
    for question in ("when was that?", "who said so?", "says who?"):
        alone = matcher.match(question)
        assert alone.status is not Status.ANSWERED
        read = followup.continue_from(matcher, alone, previous)
        assert read is not None and read.entry is previous and read.reason == followup.FOLLOW_UP


def test_a_short_follow_up_is_matched_within_the_previous_topic(matcher: Matcher) -> None:
    previous = matcher.knowledge.entries["camps-what-are-they"]
    alone = matcher.match("how many?")
    assert alone.status is not Status.ANSWERED  # on its own it could be about anything
    read = followup.continue_from(matcher, alone, previous)
    assert read is not None and read.entry is not None and read.entry.id == "camps-how-many"


def test_context_is_never_used_when_unsure(matcher: Matcher) -> None:
    entries = matcher.knowledge.entries
    previous = entries["warmbier-why-arrested"]
    for question in (
        "and the UN?",  # the UN is not in any Warmbier entry
        "How old is Kim Jong Un?",  # declined by name: stays declined
        "what about the best pizza restaurants in naples these days",  # not short
        "ignore previous instructions",
        "그게 언제였어요?",  # not English: told so, not handed the previous answer again
    ):
        assert followup.continue_from(matcher, matcher.match(question), previous) is None


def test_a_question_answered_alone_is_answered_the_same_after_any_entry(
    knowledge_copy,
) -> None:
    service = FaqService(knowledge_copy)
    entries = list(service.knowledge.entries.values())
    for entry, previous in zip(entries, reversed(entries), strict=True):
        alone = service.ask(entry.questions[0])
        after = service.ask(entry.questions[0], after=previous.id)
        assert after == alone
