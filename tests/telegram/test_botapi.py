"""Proves FakeBotAPI behaves like Telegram towards a real python-telegram-bot client.

Everything goes over HTTP through an unmodified ``telegram.Bot`` / ``Application``: if PTB
parses our answers into the right objects and raises the right exceptions, bots tested
against the fake will behave as they do against api.telegram.org.
"""

import asyncio
import datetime as dtm
import socket
import threading
import time

import httpx
import pytest
from botapi import Call, FakeBotAPI, parse_html
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

CHAT = 4242
# RetryAfter's int-vs-timedelta deprecation notice is PTB's business, not this fake's.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def api():
    with FakeBotAPI(bot_id=777) as fake:
        yield fake


@pytest.fixture
async def bot(api):
    async with Bot(api.token, base_url=f"{api.url}/bot") as client:
        yield client


def retry_seconds(exc: RetryAfter) -> int:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA."""
    value = exc.retry_after
    return int(value.total_seconds()) if isinstance(value, dtm.timedelta) else value


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


# ------------------------------------------------------------------------------- basics
async def test_get_me(bot, api):
    me = await bot.get_me()
    assert me.id == 777 and me.is_bot and me.username == "nkrights_bot"
    assert me.can_join_groups is True and me.supports_inline_queries is True
    assert me.can_read_all_group_messages is False
    assert bot.username == "nkrights_bot"  # Bot.initialize() went through getMe
    assert api.calls("getMe")[0].ok


async def test_can_read_all_group_messages_is_configurable():
    with FakeBotAPI(can_read_all_group_messages=True) as fake:
        async with Bot(fake.token, base_url=f"{fake.url}/bot") as client:
            assert (await client.get_me()).can_read_all_group_messages is True


async def test_wrong_token_is_unauthorized(api):
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("999:WRONG", base_url=f"{api.url}/bot"):
            pass
    assert api.calls("getMe")[0].status == 401


async def test_unknown_method_is_404_and_recorded(bot, api):
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicate", api_kwargs={"chat_id": CHAT})
    call = api.calls("frobnicate")[0]
    assert call.status == 404 and call.params == {"chat_id": CHAT}
    assert call.response == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_raw_http_shapes(api):
    """GET, JSON bodies and the exact error envelopes, without PTB in between."""
    async with httpx.AsyncClient(base_url=api.url) as http:
        r = await http.get(f"/bot{api.token}/getMe")
        assert r.json()["ok"] is True and r.json()["result"]["username"] == "nkrights_bot"
        r = await http.post("/botNOPE/getMe")
        assert r.status_code == 401
        assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        r = await http.post(
            f"/bot{api.token}/sendMessage",
            json={"chat_id": CHAT, "text": "123", "reply_markup": '{"inline_keyboard": []}'},
        )
        assert r.json()["result"]["text"] == "123"
    params = api.calls("sendMessage")[0].params
    assert params == {"chat_id": CHAT, "text": "123", "reply_markup": {"inline_keyboard": []}}


# --------------------------------------------------------------------------- sendMessage
async def test_send_message_html_and_keyboard_round_trip(bot, api):
    markup = keyboard(
        InlineKeyboardButton("Yes", callback_data="vote:yes"),
        InlineKeyboardButton("Docs", url="https://example.org/?a=1&b=2"),
    )
    html = (
        '<b>Summit</b> &amp; <i>rights</i> — <a href="https://hrw.org/x?a=1&amp;b=2">'
        "source</a> 1 &lt; 2 &#128512;"
    )
    msg = await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML, reply_markup=markup)

    assert msg.text == "Summit & rights — source 1 < 2 \U0001f600"
    assert msg.from_user.id == 777 and msg.from_user.is_bot
    assert msg.chat.id == CHAT and msg.chat.type == "private"
    assert msg.reply_markup == markup
    kinds = {e.type: msg.parse_entity(e) for e in msg.entities}
    assert kinds == {
        MessageEntityType.BOLD: "Summit",
        MessageEntityType.ITALIC: "rights",
        MessageEntityType.TEXT_LINK: "source",
    }
    assert msg.entities[2].url == "https://hrw.org/x?a=1&b=2"
    assert "<b>Summit</b>" in msg.text_html

    params = api.calls("sendMessage", chat_id=CHAT)[0].params
    assert params["chat_id"] == CHAT and params["text"] == html
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "vote:yes"
    assert api.sent_texts(CHAT) == [msg.text]


async def test_message_ids_increase_per_chat_and_chat_types_are_remembered(bot, api):
    api.message("hello", chat_id=-100555, chat_type="group")
    first = await bot.send_message(CHAT, "one")
    second = await bot.send_message(CHAT, "two")
    group = await bot.send_message(-100555, "hi group")
    other = await bot.send_message(-100999, "unknown negative id")
    assert (first.message_id, second.message_id) == (1, 2)
    assert group.message_id == 2 and group.chat.type == "group"
    assert group.chat.title
    assert other.chat.type == "supergroup"


async def test_reply_to_message_is_echoed(bot, api):
    update = api.message("question?", chat_id=CHAT)
    msg = await bot.send_message(
        CHAT, "answer", reply_to_message_id=update["message"]["message_id"]
    )
    assert msg.reply_to_message.text == "question?"
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(CHAT, "x", reply_to_message_id=999)


@pytest.mark.parametrize(
    "html",
    [
        "line<br>break",
        "a < b",
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "stray </b>",
        "AT&T",
        "<span>no spoiler class</span>",
        "<div>nope</div>",
        '<a href="x>broken',
    ],
)
async def test_bad_html_is_rejected(bot, api, html):
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    assert api.calls("sendMessage")[-1].status == 400


@pytest.mark.parametrize(
    "html",
    [
        "<strong>a</strong> <em>b</em> <ins>c</ins> <s>d</s> <strike>e</strike> <del>f</del>",
        '<pre><code class="language-python">print(1)</code></pre>',
        '<span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler>',
        "<blockquote expandable>quote</blockquote> <u>u</u>",
        '<tg-emoji emoji-id="5368324170671202286">\U0001f44d</tg-emoji>',
        "&quot;q&quot; &#x41; &gt;",
        "<code>x &lt;= y</code>",
    ],
)
async def test_valid_html_is_accepted(bot, html):
    msg = await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    assert "<" not in msg.text.replace("<=", "")


def test_parse_html_entities_and_languages():
    text, ents = parse_html('<pre><code class="language-py">x</code></pre>\U0001f600<b>y</b>')
    assert text == "x\U0001f600y"
    assert ents == [
        {"type": "pre", "language": "py", "offset": 0, "length": 1},
        {"type": "bold", "offset": 3, "length": 1},
    ]  # UTF-16 offsets
    assert parse_html("AT&T", strict=False)[0] == "AT&T"


async def test_text_length_limits(bot):
    ok = await bot.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text) == 4096  # tags do not count
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>\n", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    "button, ok",
    [
        (InlineKeyboardButton("b", callback_data="x" * 64), True),
        (InlineKeyboardButton("b", callback_data="é" * 32), True),  # 64 bytes
        (InlineKeyboardButton("b", callback_data="x" * 65), False),
        (InlineKeyboardButton("b", callback_data="é" * 33), False),  # 33 chars, 66 bytes
        (InlineKeyboardButton("b", switch_inline_query=""), True),
        (InlineKeyboardButton("", callback_data="x"), False),
        (InlineKeyboardButton("b", callback_data="x", url="https://example.org"), False),
    ],
)
async def test_inline_keyboard_validation(bot, button, ok):
    if ok:
        await bot.send_message(CHAT, "kb", reply_markup=keyboard(button))
    else:
        with pytest.raises(BadRequest):
            await bot.send_message(CHAT, "kb", reply_markup=keyboard(button))


async def test_text_only_button_is_rejected(api):
    async with httpx.AsyncClient() as http:
        markup = '{"inline_keyboard": [[{"text": "t"}]]}'
        r = await http.post(
            f"{api.url}/bot{api.token}/sendMessage",
            data={"chat_id": CHAT, "text": "kb", "reply_markup": markup},
        )
    assert r.status_code == 400 and "Text buttons are unallowed" in r.json()["description"]


# ---------------------------------------------------------------------------------- edits
async def test_edit_message_text_and_markup(bot, api):
    sent = await bot.send_message(
        CHAT, "v1", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="a"))
    )
    edited = await bot.edit_message_text(
        "<b>v2</b>", CHAT, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert edited.text == "v2" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing without markup drops the keyboard
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("<b>v2</b>", CHAT, sent.message_id, parse_mode=ParseMode.HTML)
    new_markup = keyboard(InlineKeyboardButton("b", callback_data="b"))
    marked = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=new_markup)
    assert marked.reply_markup == new_markup and marked.text == "v2"
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)


# ------------------------------------------------------------------------ fault injection
async def test_fail_next_429_raises_retry_after(bot, api):
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "hi")
    assert retry_seconds(info.value) == 7
    assert api.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert (await bot.send_message(CHAT, "hi")).text == "hi"  # count=1: only once


async def test_fail_next_403_and_block_chat(bot, api):
    api.fail_next("send_message", 403)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    api.message("hi", chat_id=-100777, chat_type="group")
    api.block_chat(-100777)
    for _ in range(2):
        with pytest.raises(Forbidden, match="(?i)bot was kicked from the group chat"):
            await bot.send_message(-100777, "hi")
    await bot.send_message(CHAT, "other chats unaffected")
    api.unblock_chat(-100777)
    await bot.send_message(-100777, "back")


async def test_fail_next_filters_by_chat_and_count(bot, api):
    api.fail_next("sendMessage", 400, "chat not found", count=2, chat_id=1)
    await bot.send_message(2, "fine")
    for _ in range(2):
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(1, "x")
    assert api.calls("sendMessage", chat_id=1)[0].response["description"] == (
        "Bad Request: chat not found"
    )
    await bot.send_message(1, "fine again")


async def test_fail_next_502_is_raw_html_and_network_error(bot, api):
    api.fail_next("sendMessage", 502)
    with pytest.raises(NetworkError) as info:
        await bot.send_message(CHAT, "hi")
    assert not isinstance(info.value, (BadRequest, Forbidden))
    api.fail_next("getMe", 502)
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{api.url}/bot{api.token}/getMe")
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in r.text


async def test_migrate_chat_raises_chat_migrated(bot, api):
    api.migrate_chat(-4001, -1004001)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-4001, "hi")
    assert info.value.new_chat_id == -1004001


async def test_rate_limit_mode(bot, api):
    api.rate_limit(per_chat_per_second=1)
    await bot.send_message(CHAT, "first")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "second")
    assert retry_seconds(info.value) >= 1
    await bot.send_message(CHAT + 1, "another chat is fine")
    api.clear_faults()
    await bot.send_message(CHAT, "limits off")


# ----------------------------------------------------------------------------- getUpdates
async def test_get_updates_returns_queued_message_as_update(bot, api):
    pushed = api.message("/start@nkrights_bot hello @someone", user_id=55)
    updates = await bot.get_updates(timeout=5)
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    msg = updates[0].message
    assert msg.text.startswith("/start") and msg.chat.type == "private" and msg.chat.id == 55
    assert msg.from_user.id == 55 and not msg.from_user.is_bot
    assert msg.parse_entities([MessageEntityType.BOT_COMMAND]).popitem()[1] == (
        "/start@nkrights_bot"
    )
    assert list(msg.parse_entities([MessageEntityType.MENTION]).values()) == ["@someone"]
    # Unconfirmed updates are delivered again; offset confirms them.
    assert len(await bot.get_updates()) == 1
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()


async def test_get_updates_long_polls(bot, api):
    start = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - start >= 0.9

    threading.Timer(0.3, api.message, args=("late",)).start()
    start = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    assert time.monotonic() - start < 5 and updates[0].message.text == "late"


async def test_get_updates_limit_and_allowed_updates(bot, api):
    for i in range(3):
        api.message(f"m{i}")
    api.inline_query("q")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["m0", "m1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1, allowed_updates=["message"])
    assert [u.message.text for u in rest] == ["m2"]  # the inline query was filtered out


async def test_webhook_makes_get_updates_conflict(bot, api):
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    assert api.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_second_poller_conflicts_the_first(bot, api):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    async with Bot(api.token, base_url=f"{api.url}/bot") as second_instance:
        await second_instance.get_updates(timeout=0)
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
        await first


async def test_multipart_parameters_are_decoded(bot, api):
    await bot.set_webhook(
        "https://example.org/hook", certificate=b"-----CERT-----", max_connections=5
    )
    params = api.calls("setWebhook")[0].params
    assert params["url"] == "https://example.org/hook" and params["max_connections"] == 5
    assert params["certificate"]["data"] == b"-----CERT-----"


# ----------------------------------------------------------------------- update builders
async def test_update_builders_parse_in_ptb(bot, api):
    sent = await bot.send_message(
        -1009, "menu", reply_markup=keyboard(InlineKeyboardButton("go", callback_data="go"))
    )
    api.message("group hi", chat_id=-1009, chat_type="supergroup", user_id=5)
    api.message("", chat_id=-1009, user_id=5, sticker=True)
    api.message("reply", chat_id=-1009, user_id=5, reply_to_message_id=sent.message_id)
    api.channel_post("news", chat_id=-1003)
    api.callback_query("go", sent, user_id=5)
    api.inline_query("summit", user_id=5)
    api.my_chat_member(-1009, "administrator", old_status="member")
    api.my_chat_member(-1009, "kicked", old_status="administrator")
    api.migrate(-4444, -1004444)
    api.push_update(
        {
            "edited_message": {
                "message_id": 1,
                "date": 0,
                "text": "e",
                "chat": {"id": 1, "type": "private"},
            }
        }
    )
    ups = await bot.get_updates(allowed_updates=Update.ALL_TYPES)
    assert len(ups) == 11
    assert ups[0].message.chat.type == "supergroup" and ups[0].message.text == "group hi"
    assert ups[1].message.sticker.emoji and ups[1].message.text is None
    assert ups[2].message.reply_to_message.from_user.id == 777
    assert ups[3].channel_post.chat.type == "channel" and ups[3].channel_post.text == "news"
    cq = ups[4].callback_query
    assert cq.data == "go" and cq.message.message_id == sent.message_id
    assert cq.message.from_user.id == 777 and cq.from_user.id == 5
    assert ups[5].inline_query.query == "summit"
    assert ups[6].my_chat_member.new_chat_member.status == "administrator"
    assert ups[7].my_chat_member.new_chat_member.status == "kicked"
    assert ups[8].message.migrate_to_chat_id == -1004444
    assert ups[9].message.migrate_from_chat_id == -4444
    assert ups[10].edited_message.text == "e"
    with pytest.raises(Forbidden, match="(?i)kicked from the supergroup"):
        await bot.send_message(-1009, "after being kicked")
    with pytest.raises(ChatMigrated):
        await bot.send_message(-4444, "old group")


async def test_callback_and_inline_answers(bot, api):
    sent = await bot.send_message(
        CHAT, "menu", reply_markup=keyboard(InlineKeyboardButton("go", callback_data="go"))
    )
    cq = api.callback_query("go", sent)["callback_query"]
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(cq["id"], text="x" * 201)
    assert await bot.answer_callback_query(cq["id"], text="x" * 200)
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await bot.answer_callback_query(cq["id"])  # answered already

    def article(i, text="<b>ok</b>", rid=None):
        return InlineQueryResultArticle(
            rid or str(i), f"t{i}", InputTextMessageContent(text, parse_mode=ParseMode.HTML)
        )

    query_id = api.inline_query("q")["inline_query"]["id"]
    for bad_results in (
        [article(i) for i in range(51)],
        [article(1), article(1)],
        [article(1, rid="x" * 65)],
        [article(1, text="<b>oops")],
    ):
        with pytest.raises(BadRequest):
            await bot.answer_inline_query(query_id, bad_results)
    assert await bot.answer_inline_query(query_id, [article(i) for i in range(50)])


async def test_chat_member_chat_and_commands(bot, api):
    api.set_member_status(-100, 5, "creator")
    api.set_member_status(-100, 6, "kicked")
    assert (await bot.get_chat_member(-100, 5)).status == "creator"
    assert (await bot.get_chat_member(-100, 6)).status == "kicked"
    assert (await bot.get_chat_member(-100, 7)).status == "member"
    me = await bot.get_chat_member(-100, 777)
    assert me.status == "administrator" and me.user.id == 777
    for user_id, status in ((8, "left"), (9, "restricted")):
        api.set_member_status(-100, user_id, status)
        assert (await bot.get_chat_member(-100, user_id)).status == status
    chat = await bot.get_chat(-100)
    assert chat.type == "supergroup" and chat.id == -100

    assert await bot.set_my_commands([("start", "Start"), ("faq", "Questions")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "faq"]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Bad-Name", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_chat_menu_button()
    assert await bot.close() and await bot.log_out()


# ------------------------------------------------------------------------------ recording
async def test_wait_for_consumes_and_explains_timeouts(bot, api):
    await bot.send_message(1, "alpha")
    await bot.send_message(2, "beta")
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == 2, timeout=1)
    assert isinstance(call, Call) and call.result["text"] == "beta"
    method, params, when = call
    assert method == "sendMessage" and params["text"] == "beta" and when <= time.time()
    assert api.wait_for("sendMessage", timeout=1).params["text"] == "alpha"
    with pytest.raises(TimeoutError, match=r"sendMessage -> 200"):
        api.wait_for("sendMessage", timeout=0.2)  # both consumed; dump lists recent calls
    task = asyncio.create_task(api.wait_for_async("sendMessage", timeout=5))
    await bot.send_message(3, "gamma")
    assert (await task).params["chat_id"] == 3
    api.clear()
    assert api.calls() == [] and api.sent_texts() == []


def test_thread_safe_concurrent_sends(api):
    statuses = []

    def send(i):
        r = httpx.post(
            f"{api.url}/bot{api.token}/sendMessage", data={"chat_id": 9, "text": f"m{i}"}
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 30
    ids = sorted(c.result["message_id"] for c in api.calls("sendMessage"))
    assert ids == list(range(1, 31))


def test_stop_releases_long_poll_and_frees_port():
    fake = FakeBotAPI().start()
    result = {}
    url = f"{fake.url}/bot{fake.token}/getUpdates"
    worker = threading.Thread(
        target=lambda: result.update(r=httpx.post(url, data={"timeout": 30}, timeout=40))
    )
    worker.start()
    time.sleep(0.3)
    start = time.monotonic()
    fake.stop()
    worker.join(5)
    assert time.monotonic() - start < 3 and result["r"].json() == {"ok": True, "result": []}
    with (
        pytest.raises(OSError),
        socket.create_connection(("127.0.0.1", int(fake.url.rsplit(":", 1)[1])), timeout=1),
    ):
        pass


# ------------------------------------------------------------------ whole-application runs
async def test_application_polling_end_to_end(api):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE):
        await update.message.reply_html(
            "<b>Welcome</b>",
            reply_markup=keyboard(InlineKeyboardButton("More", callback_data="more")),
        )

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE):
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text("More info")

    app = ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").build()
    app.add_handlers([CommandHandler("start", start), CallbackQueryHandler(more)])
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        api.message("/start", user_id=31)
        reply = await api.wait_for_async("sendMessage", timeout=10)
        assert reply.result["text"] == "Welcome" and reply.params["chat_id"] == 31
        api.callback_query("more", reply, user_id=31)
        await api.wait_for_async("answerCallbackQuery", timeout=10)
        edit = await api.wait_for_async("editMessageText", timeout=10)
        assert edit.ok and edit.result["text"] == "More info"
        await app.updater.stop()
        await app.stop()


async def test_application_webhook_end_to_end(api):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE):
        await update.message.reply_text(f"echo {update.message.text}")

    app = ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").build()
    app.add_handler(CommandHandler("ping", echo))
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret",
        )
        assert api.webhook["url"].endswith("/hook")
        api.message("/ping", user_id=32)
        reply = await api.wait_for_async("sendMessage", timeout=10)
        assert reply.result["text"] == "echo /ping"
        await app.updater.stop()
        await app.stop()


async def test_command_menus_are_kept_per_scope(bot, api):
    from telegram import BotCommandScopeAllGroupChats, BotCommandScopeChat

    assert await bot.set_my_commands([("ask", "Ask")], scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands([("help", "Help")], scope=BotCommandScopeChat(-100))
    assert api.commands("all_group_chats") == ["ask"] and api.commands() == []
    scoped = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in scoped] == ["ask"]
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{api.url}/bot{api.token}/setMyCommands",
            json={"commands": [{"command": "a", "description": "b"}], "scope": {"type": "x"}},
        )
    assert r.status_code == 400 and "BotCommandScope" in r.json()["description"]


async def test_a_share_button_needs_a_chosen_chat_object(api):
    async with httpx.AsyncClient() as http:
        for chosen, status in (({"query": "q", "allow_user_chats": True}, 200), ("q", 400)):
            button = {"text": "Share", "switch_inline_query_chosen_chat": chosen}
            r = await http.post(
                f"{api.url}/bot{api.token}/sendMessage",
                json={
                    "chat_id": CHAT,
                    "text": "kb",
                    "reply_markup": {"inline_keyboard": [[button]]},
                },
            )
            assert r.status_code == status
