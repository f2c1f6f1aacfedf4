"""Follow-up questions: buttons under an answer, and short questions read as following on from
the answer before them. The real bot process, over HTTP, against tests/botapi."""

from __future__ import annotations

from html import escape

import pytest
from conftest import ask, buttons


@pytest.fixture
def bot(bot_factory):
    return bot_factory()


def follow_ups(call) -> list[dict]:
    return [b for b in buttons(call) if str(b.get("callback_data", "")).startswith("e:")]


def test_related_questions_come_as_buttons_and_a_press_answers_in_a_new_message(
    api, bot, knowledge
) -> None:
    sent = ask(api, "how many people are in north korea's prison camps?", 51)
    assert "120,000" in sent["text"]
    offered = [b["callback_data"].removeprefix("e:") for b in follow_ups(sent)]
    related = knowledge.entries["camps-how-many"].related
    assert len(offered) == 3 and offered[: len(related)] == related
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
