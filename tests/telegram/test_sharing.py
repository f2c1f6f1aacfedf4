"""Answers people pass around: deep links to one entry, the Share button, and inline results
that fit Telegram's limits. The real bot process, over HTTP, against tests/botapi."""

from __future__ import annotations

import pytest
from conftest import ask, buttons


@pytest.fixture
def bot(bot_factory):
    return bot_factory()


def test_a_deep_link_answers_its_entry_with_sources(api, bot, knowledge) -> None:
    entry = knowledge.entries["camps-how-many"]
    call = ask(api, f"/start {entry.id}", 41)
    assert "120,000" in call["text"] and "<b>Sources</b>" in call["text"]
    assert "<blockquote expandable>" in call["text"]
    assert "Ask me a question" not in call["text"]
    assert "👍" in [b["text"] for b in buttons(call)]
    bot.wait_log("deep link entry=camps-how-many")


def test_an_unknown_deep_link_gets_the_welcome_and_a_note(api, bot) -> None:
    call = ask(api, "/start camps-gone-since-2019", 42)
    assert "no longer have" in call["text"] and "Ask me a question" in call["text"]
    assert "camps-gone" not in call["text"]  # the payload is not echoed
    assert "t:camps" in [b["callback_data"] for b in buttons(call)]
    plain = ask(api, "/start", 43)
    assert "no longer have" not in plain["text"] and "Ask me a question" in plain["text"]


def test_the_share_button_opens_the_chat_picker_with_exactly_that_answer(api, bot) -> None:
    sent = ask(api, "who is olivia enos", 44)
    (share,) = [b for b in buttons(sent) if "switch_inline_query_chosen_chat" in b]
    chosen = share["switch_inline_query_chosen_chat"]
    assert chosen["allow_user_chats"] and chosen["allow_group_chats"]
    api.inline_query(chosen["query"], user_id=44)  # what Telegram sends once a chat is picked
    (result,) = api.wait_for("answerInlineQuery")["results"]
    assert result["id"] == "people-olivia-enos"
    assert result["input_message_content"]["message_text"] == sent["text"]
    labels = [b["text"] for b in buttons(sent)]
    assert {"👍", "👎", "More on this topic"} <= set(labels)
