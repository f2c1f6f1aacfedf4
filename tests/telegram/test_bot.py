"""The real bot process, over HTTP, against a local server that speaks the Bot API.

Each test does what a Telegram user would and asserts on what Telegram would receive;
the fake server rejects what Telegram rejects (bad HTML, long texts, long callback data)."""

from __future__ import annotations

import sqlite3
import time
from html import escape

import httpx
import pytest
from conftest import ask, buttons

from bot.storage import open_store

GROUP = -100555


def answered(call) -> bool:
    return "Sources" in call["text"]


@pytest.fixture
def bot(bot_factory):
    return bot_factory()


def test_private_question_gets_a_sourced_answer_with_feedback_buttons(api, bot) -> None:
    call = ask(api, "how many people are in north korea's prison camps?", 11)
    assert "120,000" in call["text"] and answered(call)
    assert call["parse_mode"] == "HTML"
    assert "https://" in call["text"] and "<blockquote expandable>" in call["text"]
    labels = [b["text"] for b in buttons(call)]
    assert "👍" in labels and "👎" in labels
    bot.wait_log("question chat=private status=answered")


def test_vote_is_stored_and_buttons_are_retired(api, bot) -> None:
    sent = ask(api, "what happened to otto warmbier after he was arrested", 12)
    up = next(b for b in buttons(sent) if b["text"] == "👍")
    api.callback_query(up["callback_data"], sent.result, user_id=12)
    reply = api.wait_for("answerCallbackQuery")
    assert "thanks" in reply["text"].lower()
    edit = api.wait_for("editMessageReplyMarkup")
    assert "👍" not in str(edit["reply_markup"])
    kept = [b["text"] for b in buttons(sent) if b["text"] not in ("👍", "👎")]
    assert [b["text"] for b in buttons(edit)] == kept  # share, follow-ups, more on the topic
    db = sqlite3.connect(bot.data_dir / "bot.sqlite3")
    assert db.execute("SELECT vote FROM votes").fetchall() == [(1,)]


def test_close_candidates_come_as_buttons_and_a_press_answers(api, bot) -> None:
    sent = ask(api, "summit", 13)
    assert "did you mean" in sent["text"].lower()
    rows = sent["reply_markup"]["inline_keyboard"]
    assert 2 <= len(rows) <= 3
    choice = rows[0][0]
    api.callback_query(choice["callback_data"], sent.result, user_id=13)
    answer = api.wait_for("sendMessage", lambda c: c["chat_id"] == 13)
    assert answered(answer)
    api.wait_for("answerCallbackQuery")


def test_off_subject_is_declined_with_the_topics(api, bot) -> None:
    sent = ask(api, "what's the best pizza in naples?", 14)
    assert "sources don" in sent["text"] and not answered(sent)
    topics = [b["callback_data"] for b in buttons(sent)]
    assert "t:camps" in topics and "t:sanctions" in topics
    bot.wait_log("status=declined")


def test_a_near_subject_question_is_declined_by_name(api, bot) -> None:
    """Kim's age is not in the articles: the bot says so, rather than answer with an entry
    that merely mentions Kim."""
    sent = ask(api, "How old is Kim Jong Un?", 24)
    assert "sources don&#x27;t cover how old Kim Jong Un is" in sent["text"] and not answered(sent)
    bot.wait_log("status=declined")


def test_topics_keyboard_leads_to_questions_then_an_answer(api, bot) -> None:
    menu = ask(api, "/topics", 15)
    api.callback_query("t:warmbier", menu.result, user_id=15)
    edit = api.wait_for("editMessageText")
    entries = [b["callback_data"] for b in buttons(edit)]
    assert any(d.startswith("e:warmbier-") for d in entries) and "topics" in entries
    api.callback_query(entries[0], edit.result, user_id=15)
    answer = api.wait_for("sendMessage", lambda c: c["chat_id"] == 15 and "Sources" in c["text"])
    assert "Warmbier" in answer["text"]


def test_start_help_and_about(api, bot) -> None:
    start = ask(api, "/start", 16)
    assert "Ask me a question" in start["text"] and start["reply_markup"]["inline_keyboard"]
    about = ask(api, "/about", 17)
    for outlet in ("Vox", "Human Rights Watch", "Just Security", "TIME", "HuffPost"):
        assert outlet in about["text"]
    assert "(inferred)" in about["text"] or "about " in about["text"]
    assert "/topics" in ask(api, "/help", 18)["text"]


def test_ask_command_without_a_question_explains_itself(api, bot) -> None:
    assert "/ask" in ask(api, "/ask", 19)["text"]


def test_groups_hear_only_when_addressed(api, bot) -> None:
    api.message("the prison camps are awful", chat_id=GROUP, chat_type="supergroup", user_id=20)
    api.message(
        "@nkrights_bot how many people are in the camps?",
        chat_id=GROUP,
        chat_type="supergroup",
        user_id=21,
    )
    mention = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "120,000" in mention["text"] and mention.get("reply_parameters")
    api.message(
        "/ask@nkrights_bot who is olivia enos", chat_id=GROUP, chat_type="supergroup", user_id=22
    )
    command = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "Heritage" in command["text"]
    api.message(
        "and what about the ICRC?",
        chat_id=GROUP,
        chat_type="supergroup",
        user_id=23,
        reply_to_message_id=command.result["message_id"],
    )
    reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "Red Cross" in reply["text"]
    time.sleep(1.0)
    # Three addressed messages, three replies: the unaddressed first message got silence.
    assert len(api.calls("sendMessage", chat_id=GROUP)) == 3


def test_inline_query_offers_ready_answers(api, bot) -> None:
    api.inline_query("kwanliso numbers", user_id=24)
    call = api.wait_for("answerInlineQuery")
    results = call["results"]
    assert 1 <= len(results) <= 10
    assert "120,000" in results[0]["input_message_content"]["message_text"]
    assert "Sources" in results[0]["input_message_content"]["message_text"]
    api.inline_query("", user_id=25)
    popular = api.wait_for("answerInlineQuery")
    assert 1 <= len(popular["results"]) <= 10


def test_html_in_a_question_is_escaped_and_accepted(api, bot) -> None:
    call = ask(api, "<b>camps</b> & <script>alert(1)</script> how many prisoners?", 26)
    assert call.ok and "<script>" not in call["text"]


def test_a_5000_character_message_gets_a_reply(api, bot) -> None:
    call = ask(api, "why can't sanctions be lifted " + "blah " * 1000, 27)
    assert call.ok and len(call["text"]) <= 4096


def test_a_sticker_gets_a_polite_hint(api, bot) -> None:
    api.message(user_id=28, sticker=True)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == 28)
    assert "text" in call["text"].lower()


def test_a_question_in_korean_hears_that_the_sources_are_english(api, bot) -> None:
    assert "I answer in English" in ask(api, "북한 인권 상황은 어떤가요?", 26)["text"]


def test_a_429_is_waited_out_and_the_answer_delivered(api, bot) -> None:
    api.fail_next("sendMessage", 429, retry_after=1, chat_id=29)
    started = time.monotonic()
    api.message("who is olivia enos", user_id=29)
    delivered = api.wait_for("sendMessage", lambda c: c["chat_id"] == 29 and c.ok, timeout=15)
    assert "Heritage" in delivered["text"]
    assert time.monotonic() - started >= 1.0
    assert len(api.calls("sendMessage", chat_id=29)) == 2


def test_a_blocked_user_touches_nobody_else(api, bot) -> None:
    api.block_chat(30)
    api.message("how many people are in the camps", user_id=30)
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 30)
    assert "120,000" in ask(api, "how many people are in the camps", 31)["text"]
    bot.wait_log("cannot send to chat 30")
    assert bot.proc.poll() is None


def test_502s_while_polling_are_retried(api, bot) -> None:
    api.fail_next("getUpdates", 502, count=3)
    api.message("who is olivia enos", user_id=32)
    assert (
        "Heritage" in api.wait_for("sendMessage", lambda c: c["chat_id"] == 32, timeout=30)["text"]
    )


def test_a_502_on_sending_is_retried(api, bot) -> None:
    api.fail_next("sendMessage", 502, chat_id=33)
    api.message("who is olivia enos", user_id=33)
    assert api.wait_for("sendMessage", lambda c: c["chat_id"] == 33 and c.ok, timeout=15)


def test_missed_questions_are_recorded_without_who_asked(api, bot) -> None:
    api.message("how many nuclear warheads does the dprk have", user_id=34)
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 34)
    db = sqlite3.connect(bot.data_dir / "bot.sqlite3")
    deadline = time.monotonic() + 5  # one writer thread records it after the answer is sent
    while not (rows := db.execute("SELECT * FROM questions").fetchall()):
        assert time.monotonic() < deadline, "the miss was never recorded"
        time.sleep(0.05)
    assert len(rows) == 1 and "warheads" in rows[0][1]
    assert not any(value == 34 or value == "34" for value in rows[0])


def test_sigterm_stops_cleanly_and_the_token_never_reaches_the_log(api, bot) -> None:
    api.message("who is olivia enos", user_id=35)
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 35)
    started = time.monotonic()
    code = bot.stop()
    assert code == 0 and time.monotonic() - started < 8
    log = bot.log()
    assert api.token.split(":")[1] not in log
    assert "stopped" in log


def test_webhook_rejects_requests_without_the_secret(api, webhook_bot) -> None:
    bot, url = webhook_bot("s3cret-token")
    hook = api.calls("setWebhook")[0]
    assert hook["secret_token"] == "s3cret-token"
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 36, "type": "private"},
            "from": {"id": 36, "is_bot": False, "first_name": "A"},
            "text": "who is olivia enos",
        },
    }
    missing = httpx.post(url, json=update)
    wrong = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
    assert missing.status_code == 403 and wrong.status_code == 403
    right = httpx.post(
        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    )
    assert right.status_code == 200
    assert "Heritage" in api.wait_for("sendMessage", lambda c: c["chat_id"] == 36)["text"]
    assert len(api.calls("sendMessage", chat_id=36)) == 1
    assert bot.stop() == 0


def test_an_acknowledged_vote_survives_a_kill(api, bot_factory, backend_env) -> None:
    bot = bot_factory(**backend_env)
    sent = ask(api, "who is olivia enos", 37)
    down = next(b for b in buttons(sent) if b["text"] == "👎")
    api.callback_query(down["callback_data"], sent.result, user_id=37)
    api.wait_for("answerCallbackQuery")  # the user has seen "Thanks"
    bot.proc.kill()  # SIGKILL: no shutdown, no flush
    bot.proc.wait()
    store = open_store(backend_env.get("DATABASE_URL"), bot.data_dir)
    assert store.vote_totals() == {"people-olivia-enos": (0, 1)}
    store.close()


def test_the_command_menu_is_set_per_scope(api, bot) -> None:
    """Private chats get every command; group members those that work for them in a group;
    group administrators also the ones that change the group's briefings."""
    scopes = [c["scope"]["type"] for c in api.calls("setMyCommands") if c.ok]
    assert {"all_private_chats", "all_group_chats", "all_chat_administrators"} <= set(scopes)
    private, group = api.commands("all_private_chats"), api.commands("all_group_chats")
    admins = api.commands("all_chat_administrators")
    assert {"ask", "topics", "briefing", "subscribe", "help", "about"} <= set(private)
    assert "ask" in group and "topics" in group and "subscriptions" in group
    assert "subscribe" not in group and "unsubscribe" not in group
    assert set(group) < set(admins) and {"subscribe", "unsubscribe"} <= set(admins)
    assert "start" not in group  # /start answers in private chats only


# -- what the bot understood, and the one tap to the right answer (issue 20, item 2) ------------
def test_an_answer_opens_with_its_question_and_offers_the_close_one(api, bot, knowledge) -> None:
    """The reader sees which question was answered; when another entry was close behind it
    is a button away, and pressing it answers that entry, opening with its own question."""
    sent = ask(api, "trump kim summit human rights", 31)
    assert answered(sent)
    first_line = sent["text"].splitlines()[0]
    assert first_line.startswith("<b>") and first_line.endswith("</b>")
    shown = next(
        e for e in knowledge.entries.values() if f"<b>{escape(e.questions[0])}</b>" == first_line
    )
    offered = [b for b in buttons(sent) if b["text"].startswith("Not what you asked?")]
    assert offered and all(b["callback_data"] != f"e:{shown.id}" for b in offered)
    api.callback_query(offered[0]["callback_data"], sent.result, user_id=31)
    other = knowledge.entries[offered[0]["callback_data"].removeprefix("e:")]
    answer = api.wait_for("sendMessage", lambda c: c["chat_id"] == 31 and c is not sent)
    assert answer["text"].startswith(f"<b>{escape(other.questions[0])}</b>") and answered(answer)


def test_a_thumbs_down_keeps_the_close_one_on_offer(api, bot) -> None:
    sent = ask(api, "trump kim summit human rights", 32)
    offered = [b["text"] for b in buttons(sent) if b["text"].startswith("Not what you asked?")]
    down = next(b for b in buttons(sent) if b["text"] == "👎")
    api.callback_query(down["callback_data"], sent.result, user_id=32)
    edit = api.wait_for("editMessageReplyMarkup")
    kept = [b["text"] for b in buttons(edit)]
    assert offered and all(label in kept for label in offered) and "👎" not in kept


def test_two_questions_in_one_message_get_two_sourced_answers(api, bot) -> None:
    sent = ask(api, "how many people are in the prison camps and who was Otto Warmbier?", 33)
    assert sent["text"].count("<b>Sources</b>") == 2
    assert "120,000" in sent["text"] and "Warmbier" in sent["text"]
    assert len(sent["text"]) <= 4096


def test_an_opinion_is_declined_saying_why(api, bot) -> None:
    sent = ask(api, "What do you think of Kim Jong Un?", 34)
    assert "I report what my five articles" in sent["text"] and not answered(sent)
