"""Follow-up questions: buttons under an answer, and short questions read as following on from
the answer before them. The real bot process, over HTTP, against tests/botapi."""

from __future__ import annotations

from html import escape

import pytest
from conftest import ask, buttons


@pytest.fixture
def bot(bot_factory):
    return bot_factory()


def entry_buttons(call) -> list[dict]:
    return [b for b in buttons(call) if str(b.get("callback_data", "")).startswith("e:")]


def follow_ups(call) -> list[dict]:
    """The next questions, not the "Not what you asked?" offers above them."""
    return [b for b in entry_buttons(call) if not b["text"].startswith("Not what you asked?")]


def test_related_questions_come_as_buttons_and_a_press_answers_in_a_new_message(
    api, bot, knowledge
) -> None:
    sent = ask(api, "how many people are in north korea's prison camps?", 51)
    assert "120,000" in sent["text"]
    offered = [b["callback_data"].removeprefix("e:") for b in follow_ups(sent)]
    instead = {b["callback_data"].removeprefix("e:") for b in entry_buttons(sent)} - set(offered)
    related = [i for i in knowledge.entries["camps-how-many"].related if i not in instead]
    assert len(offered) + len(instead) == 3 and offered[: len(related)] == related
    assert all(knowledge.entries[i].topic == "camps" for i in offered)
    labels = [b["text"] for b in buttons(sent)]
    assert {"👍", "👎", "More on this topic"} <= set(labels)

    chosen = knowledge.entries[offered[0]]
    api.callback_query(f"e:{chosen.id}", sent.result, user_id=51)
    api.wait_for("answerCallbackQuery")
    answer = api.wait_for("sendMessage", lambda c: c["chat_id"] == 51)
    assert escape(chosen.answer) in answer["text"] and "<b>Sources</b>" in answer["text"]
    assert answer.result["message_id"] != sent.result["message_id"]  # a new message
    assert follow_ups(answer) and f"e:{chosen.id}" not in [
        b["callback_data"] for b in follow_ups(answer)
    ]


def test_a_stale_follow_up_is_answered_politely(api, bot) -> None:
    sent = ask(api, "who is olivia enos", 52)
    api.callback_query("e:camps-removed-last-week", sent.result, user_id=52)
    reply = api.wait_for("answerCallbackQuery")
    assert reply.get("text") and "sorry" not in reply["text"].lower()
    assert "no longer" in reply["text"]
    assert len(api.calls("sendMessage", chat_id=52)) == 1  # nothing else sent


GROUP = -100777


def test_a_short_private_follow_up_reads_with_the_answer_before_it(api, bot, knowledge) -> None:
    alone = ask(api, "when was that?", 53)  # no answer before it: declined as ever
    assert "Following on from" not in alone["text"] and "Sources" not in alone["text"]
    first = ask(api, "why was otto warmbier arrested", 53)
    entry = knowledge.entries["warmbier-why-arrested"]
    assert escape(entry.answer) in first["text"]
    follow = ask(api, "when was that?", 53)
    assert follow["text"].startswith(f"<i>↪ Following on from “{escape(entry.questions[0])}”")
    assert escape(entry.answer) in follow["text"] and "<b>Sources</b>" in follow["text"]
    bot.wait_log("entry=warmbier-why-arrested score=100")
    bot.wait_log("after=warmbier-why-arrested")


def test_a_reply_to_an_answer_in_a_group_is_read_with_its_topic(api, bot, knowledge) -> None:
    asked = api.message(
        "/ask@nkrights_bot what are the kwanliso",
        chat_id=GROUP,
        chat_type="supergroup",
        user_id=54,
    )
    first = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert escape(knowledge.entries["camps-what-are-they"].answer) in first["text"]
    quoted = first["reply_parameters"]
    assert quoted["message_id"] == asked["message"]["message_id"]
    assert quoted["allow_sending_without_reply"] is True

    follow = api.message(
        "how many?",
        chat_id=GROUP,
        chat_type="supergroup",
        user_id=55,
        reply_to_message_id=first.result["message_id"],
    )
    reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    how_many = knowledge.entries["camps-how-many"]
    assert escape(how_many.answer) in reply["text"]
    assert "Following on from “What are North Korea" in reply["text"]
    assert reply["reply_parameters"]["message_id"] == follow["message"]["message_id"]
    # Not a reply to the bot: no context, and "how many?" alone is a "did you mean".
    api.message("@nkrights_bot how many?", chat_id=GROUP, chat_type="supergroup", user_id=56)
    plain = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "Following on from" not in plain["text"]


def test_what_follow_ups_read_with_is_bounded_and_expires() -> None:
    from bot.telegram.handlers import RecentAnswers

    recent = RecentAnswers(size=3)
    for n in range(5):
        recent.add(chat_id=n, message_id=100 + n, entry_id=f"e{n}")
    assert recent.shown_in(0, 100) is None and recent.last(0, within=60) is None  # pushed out
    assert recent.shown_in(4, 104) == "e4" and recent.last(4, within=60) == "e4"
    assert recent.last(4, within=-1) is None  # an answer older than the window


@pytest.mark.parametrize(
    "moved_on", ["what is the best pizza in new york", "how many?"], ids=["decline", "did-you-mean"]
)
def test_a_question_not_answered_ends_what_a_follow_up_reads_with(api, bot, moved_on) -> None:
    """After a decline or a "did you mean", "when was that?" is about what was just asked, not
    the answer before it: handing that answer back again would answer a question not asked."""
    ask(api, "why was otto warmbier arrested", 57)
    between = ask(api, moved_on, 57)
    assert "Sources" not in between["text"]  # declined, or a "did you mean"
    follow = ask(api, "when was that?", 57)
    assert "Following on from" not in follow["text"] and "Sources" not in follow["text"]
