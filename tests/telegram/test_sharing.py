"""Answers people pass around: deep links to one entry, the Share button, and inline results
that fit Telegram's limits. The real bot process, over HTTP, against tests/botapi."""

from __future__ import annotations

from html import escape

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


def test_inline_results_fit_telegrams_title_and_description(api, bot, knowledge) -> None:
    long = max(knowledge.entries.values(), key=lambda e: len(e.questions[0]))
    assert len(long.questions[0]) > 64  # the FAQ has one: the case this test is about
    api.inline_query(long.questions[0], user_id=45)
    (result,) = api.wait_for("answerInlineQuery")["results"]
    assert result["id"] == long.id
    assert len(result["title"]) <= 64 and result["title"].endswith("…")
    api.inline_query("", user_id=46)
    for result in api.wait_for("answerInlineQuery")["results"]:
        assert len(result["title"]) <= 64 and len(result["description"]) <= 120


def test_an_answer_keeps_its_headlines_and_quotes_below_the_fold(api, bot, knowledge) -> None:
    sent = ask(api, "how many people are in north korea's prison camps?", 47)
    text = sent.result["text"]
    folded = sum(
        e["length"] for e in sent.result["entities"] if e["type"] == "expandable_blockquote"
    )
    entry = knowledge.entries["camps-how-many"]
    assert len(text) - folded < len(entry.answer) + 300
    assert text.count("Human Rights Watch, by Phil Robertson") == 1  # each article once


def test_a_deep_link_and_an_inline_result_open_with_the_question_they_answer(
    api, bot, knowledge
) -> None:
    """Forwarded or shared, an answer still says which question it answers."""
    entry = knowledge.entries["camps-how-many"]
    call = ask(api, f"/start {entry.id}", 48)
    assert call["text"].startswith(f"<b>{escape(entry.questions[0])}</b>\n")
    api.inline_query("how many people are in the prison camps", user_id=48)
    results = api.wait_for("answerInlineQuery")["results"]
    for result in results:
        text = result["input_message_content"]["message_text"]
        question = knowledge.entries[result["id"]].questions[0]
        assert text.startswith(f"<b>{escape(question)}</b>\n")
