"""Telegram glue: each handler turns an update into a call on the FAQ service and sends
what render made of the result. No matching or wording decisions live here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from html import escape

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.engine import render, smalltalk
from bot.engine.followup import FOLLOW_UP
from bot.engine.matcher import Result, Status
from bot.engine.models import Entry
from bot.engine.service import FaqService
from bot.settings import Settings
from bot.storage import Store, StoreError, voter_hash
from bot.telegram import keyboards

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
INLINE_RESULTS = 10
STORE_BUSY = "Could not save that just now: please try again in a minute."
_OVERTAKEN = ("not modified", "message to edit not found", "query is too old")


def service(context: Context) -> FaqService:
    return context.bot_data["service"]


def settings(context: Context) -> Settings:
    return context.bot_data["settings"]


def store(context: Context) -> Store:
    return context.bot_data["store"]


def is_admin(context: Context, user_id: int | None) -> bool:
    return user_id is not None and user_id in settings(context).bot_admin_ids


# -- texts ----------------------------------------------------------------------------------------
def welcome_html(context: Context) -> str:
    return (
        "<b>North Korea, human rights and the Trump–Kim summits</b>\n\n"
        "Ask me a question in your own words, for example <i>how many people are in the "
        "prison camps?</i> or <i>why can't sanctions just be lifted?</i> Every answer names "
        "its source and quotes it.\n\n"
        "In a group, mention me or reply to me. Anywhere, type "
        f"<code>@{escape(context.bot.username or 'bot')} your question</code>.\n\n"
        "Or pick a topic:"
    )


HELP_HTML = (
    "<b>How to use me</b>\n"
    "• Just type a question. In a group: <code>/ask question</code>, a mention,"
    " or a reply to me.\n"
    "• /topics — browse the questions I can answer.\n"
    "• /about — what I am and my five sources.\n"
    "• /briefing [topic] — a short briefing: key facts, each with its source.\n"
    "• /subscribe [topic|all] [daily HH:MM | weekly DAY HH:MM] [time zone] — a regular"
    " briefing in this chat (defaults: all topics, daily at 09:00, UTC);"
    " /subscriptions shows it, /unsubscribe stops it.\n"
    "• Inline: type my @username and a question in any chat.\n"
    "• Under an answer: ↗ Share sends it to another chat; ❓ buttons ask a related question;"
    " a short follow-up such as <i>when was that?</i> is read with the answer before it.\n"
    "👍/👎 under an answer tell the maintainers what to improve."
)


def about_html(context: Context) -> str:
    lines = ["<b>About this bot</b>", escape(smalltalk.ABOUT), "", "<b>Sources</b>"]
    lines += [
        f"• {render.source_line_html(s)}" for s in service(context).knowledge.sources.values()
    ]
    return "\n".join(lines)


# -- answering ------------------------------------------------------------------------------------
async def send_answer(
    message: Message,
    entry: Entry,
    context: Context,
    *,
    quote: bool,
    after: Entry | None = None,
    result: Result | None = None,
) -> None:
    """An entry's answer with its sources and buttons, as a reply in `message`'s chat; the
    chat remembers it for short follow-ups. `result`: the match it came from, whose other
    parts are answered with it and whose runners-up are offered under it."""
    svc = service(context)
    also = result.entries[1:] if result else ()
    alternatives = [c.entry for c in result.alternatives] if result else []
    sent = await message.reply_html(
        render.answer_html(entry, svc.knowledge, after=after, also=also),
        reply_markup=keyboards.answer_keyboard(
            entry, svc.next_questions(entry), alternatives=alternatives
        ),
        do_quote=quote,
    )
    recent(context).add(sent.chat_id, sent.message_id, entry.id)


# -- what a follow-up follows on from ------------------------------------------------------------
FOLLOW_UP_WINDOW = 15 * 60  # seconds after an answer that a private follow-up reads with it


class RecentAnswers:
    """Which entry each recent answer showed, and each chat's last answer: what a short
    follow-up is read with. In memory and bounded (oldest first out): after a restart, or for
    an answer long buried, a follow-up is simply read on its own."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._shown: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._last: OrderedDict[int, tuple[str, float]] = OrderedDict()

    def add(self, chat_id: int, message_id: int, entry_id: str) -> None:
        self._shown[(chat_id, message_id)] = entry_id
        self._last[chat_id] = (entry_id, time.monotonic())
        self._last.move_to_end(chat_id)
        for kept in (self._shown, self._last):
            while len(kept) > self.size:
                kept.popitem(last=False)

    def forget_last(self, chat_id: int) -> None:
        """The chat has moved on (a question the bot could not answer): a short follow-up
        after it is read on its own, not with the answer before."""
        self._last.pop(chat_id, None)

    def shown_in(self, chat_id: int, message_id: int) -> str | None:
        return self._shown.get((chat_id, message_id))

    def last(self, chat_id: int, within: float) -> str | None:
        entry_id, at = self._last.get(chat_id, ("", 0.0))
        return entry_id if entry_id and time.monotonic() - at <= within else None


def recent(context: Context) -> RecentAnswers:
    return context.bot_data.setdefault("recent_answers", RecentAnswers())


def previous_entry(message: Message, context: Context) -> str | None:
    """The answer a question follows on from: in any chat the bot's answer it replies to; in
    a private chat also the last answer, when recent."""
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.id == context.bot.id:
        return recent(context).shown_in(message.chat_id, reply.message_id)
    if message.chat.type == ChatType.PRIVATE:
        return recent(context).last(message.chat_id, FOLLOW_UP_WINDOW)
    return None


async def send_result(
    message: Message, result: Result, context: Context, *, quote: bool, after: str | None = None
) -> None:
    knowledge = service(context).knowledge
    if result.status is Status.ANSWERED and result.entry:
        followed = knowledge.entries.get(after or "") if result.reason == FOLLOW_UP else None
        await send_answer(
            message, result.entry, context, quote=quote, after=followed, result=result
        )
    elif result.status is Status.SUGGEST:
        await message.reply_html(
            render.suggest_html(),
            reply_markup=keyboards.suggestions_keyboard(result.candidates),
            do_quote=quote,
        )
    elif result.status is Status.SMALLTALK:
        await message.reply_html(escape(result.reply or ""), do_quote=quote)
    else:
        await message.reply_html(
            render.declined_html(result, knowledge),
            reply_markup=keyboards.declined_keyboard(
                knowledge, [c.entry for c in result.alternatives]
            ),
            do_quote=quote,
        )


async def answer(message: Message, question: str, context: Context) -> None:
    started = time.perf_counter()
    after = previous_entry(message, context)
    result = service(context).ask(question, after=after)
    await send_result(
        message, result, context, quote=message.chat.type != ChatType.PRIVATE, after=after
    )
    if result.status in (Status.DECLINED, Status.SUGGEST):
        recent(context).forget_last(message.chat_id)
    log.info(
        "question chat=%s status=%s entry=%s score=%.0f latency_ms=%.1f%s",
        message.chat.type,
        result.status,
        result.entry.id if result.entry else "-",
        result.score,
        (time.perf_counter() - started) * 1000,
        f" after={after}" if result.reason == FOLLOW_UP else "",
    )


async def on_private_text(update: Update, context: Context) -> None:
    await answer(update.effective_message, update.effective_message.text, context)


async def on_group_text(update: Update, context: Context) -> None:
    """Groups hear from the bot only when they address it: a mention or a reply to it."""
    message = update.effective_message
    question = addressed_question(message, context)
    if question is not None:
        await answer(message, question, context)


def addressed_question(message: Message, context: Context) -> str | None:
    text = message.text or ""
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.id == context.bot.id:
        return text
    username = (context.bot.username or "").lower()
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        mentioned = (
            value.lstrip("@").lower() == username
            if entity.type == MessageEntity.MENTION
            else entity.user is not None and entity.user.id == context.bot.id
        )
        if mentioned:
            return (text[: entity.offset] + text[entity.offset + entity.length :]).strip()
    return None


async def on_non_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice: say what works instead of staying silent (private chats only)."""
    await update.effective_message.reply_text(
        "I can only read text. Type a question, or send /topics to browse."
    )


# -- commands -------------------------------------------------------------------------------------
async def cmd_start(update: Update, context: Context) -> None:
    """`/start` alone greets; `/start <entry id>` is a shared deep link
    (t.me/<bot>?start=<id>) and answers that entry at once."""
    message = update.effective_message
    payload = (context.args or [""])[0]
    if payload:
        result = service(context).choose(payload)
        log.info("deep link entry=%s", result.entry.id if result and result.entry else "unknown")
        if result is not None and result.entry:
            await send_answer(message, result.entry, context, quote=False)
            return
    note = (
        "<i>The link you followed points to an answer I no longer have; here is what I do"
        " answer.</i>\n\n"
        if payload
        else ""
    )
    await message.reply_html(
        note + welcome_html(context),
        reply_markup=keyboards.topics_keyboard(service(context).knowledge),
    )


async def cmd_help(update: Update, context: Context) -> None:
    await update.effective_message.reply_html(HELP_HTML)


async def cmd_about(update: Update, context: Context) -> None:
    await update.effective_message.reply_html(about_html(context))


async def cmd_whoami(update: Update, context: Context) -> None:
    """The sender's numeric user id, which nothing in Telegram's apps shows: what a deployer
    puts in BOT_ADMIN_IDS to make someone a maintainer."""
    user = update.effective_user
    if user is None:
        return
    role = (
        "You are one of this bot's maintainers."
        if user.id in context.bot_data["settings"].bot_admin_ids
        else "To make this account a maintainer (/reload, /report), add the id to BOT_ADMIN_IDS"
        " (comma-separated) and restart the bot."
    )
    await update.effective_message.reply_html(
        f"Your Telegram user id is <code>{user.id}</code>. {role}"
    )


async def cmd_topics(update: Update, context: Context) -> None:
    await update.effective_message.reply_html(
        "<b>Topics</b> — pick one:",
        reply_markup=keyboards.topics_keyboard(service(context).knowledge),
    )


async def cmd_ask(update: Update, context: Context) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await update.effective_message.reply_html(
            "Put the question after the command, for example: "
            "<code>/ask what is the kwanliso?</code>",
            do_quote=update.effective_chat.type != ChatType.PRIVATE,
        )
        return
    await answer(update.effective_message, question, context)


# -- buttons --------------------------------------------------------------------------------------
async def on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    knowledge = service(context).knowledge
    kind, args = keyboards.parse(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    if (
        kind == keyboards.VOTE
        and len(args) == 2
        and args[0] in knowledge.entries
        and args[1] in ("+", "-")
        and message is not None
        and _entry_shown(message, context) == args[0]  # a forged button cannot move votes
    ):
        voter = voter_hash(settings(context).token or "", query.from_user.id)
        try:  # in a thread: a vote may wait a few seconds for the store, nobody else does
            await asyncio.to_thread(
                store(context).record_vote, args[0], 1 if args[1] == "+" else -1, voter
            )
        except StoreError:
            await _quietly(query.answer(STORE_BUSY, show_alert=True))
            return
        await _quietly(query.answer("Thanks for the feedback!"))
        if message:
            entry = knowledge.entries[args[0]]
            markup = keyboards.answer_keyboard(
                entry,
                service(context).next_questions(entry),
                voted=True,
                alternatives=keyboards.offered_in(message.reply_markup, knowledge),
            )
            await _quietly(query.edit_message_reply_markup(markup))
        return
    if kind == keyboards.ENTRY and args:
        result = service(context).choose(args[0])
        if result is None or message is None:
            await _quietly(query.answer("That question is no longer in the FAQ."))
            return
        await _quietly(query.answer())
        await send_answer(message, result.entry, context, quote=False)
        return
    if (
        kind in (keyboards.TOPIC, keyboards.MORE)
        and args
        and args[0] in knowledge.topics
        and message
    ):
        topic = knowledge.topics[args[0]]
        text = f"<b>{escape(topic.title)}</b>\n{escape(topic.summary)}"
        markup = keyboards.topic_keyboard(knowledge, topic.id)
        await _quietly(query.answer())
        if kind == keyboards.MORE:  # from an answer: keep the answer, list the topic below it
            await message.reply_html(text, reply_markup=markup)
        else:  # from the topic browser: navigate in place
            await _quietly(query.edit_message_text(text, reply_markup=markup))
        return
    if kind == keyboards.TOPICS and message:
        await _quietly(query.answer())
        await _quietly(
            query.edit_message_text(
                "<b>Topics</b> — pick one:", reply_markup=keyboards.topics_keyboard(knowledge)
            )
        )
        return
    await _quietly(query.answer("This button has expired."))


def _entry_shown(message: Message, context: Context) -> str | None:
    """The entry an answer message shows, from what Telegram says the message is (its Share
    button types that entry's phrasing), so it holds after a restart; else from memory."""
    for row in message.reply_markup.inline_keyboard if message.reply_markup else ():
        for button in row:
            chosen = button.switch_inline_query_chosen_chat
            entry = service(context).exact(chosen.query) if chosen and chosen.query else None
            if entry is not None:  # else a phrasing edited since: what memory says
                return entry.id
    return recent(context).shown_in(message.chat_id, message.message_id)


async def _quietly(coro) -> None:
    """What Telegram says when a user's own action overtook the bot is harmless: a button
    pressed twice ('message is not modified'), a message deleted before its buttons were
    retired or its topic list edited, a button press answered after Telegram stopped waiting
    ('query is too old'). The rest of the handler still runs."""
    try:
        await coro
    except BadRequest as exc:
        if not any(harmless in str(exc).lower() for harmless in _OVERTAKEN):
            raise
        log.info("overtaken by the user: %s", exc)


# -- inline mode ----------------------------------------------------------------------------------
async def on_inline(update: Update, context: Context) -> None:
    query = update.inline_query
    text = (query.query or "").strip()
    svc = service(context)
    entries = svc.search(text, INLINE_RESULTS) if text else svc.popular(INLINE_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=entry.id,
            title=render.inline_title(entry),
            description=render.inline_description(entry),
            input_message_content=InputTextMessageContent(
                render.answer_html(entry, svc.knowledge), parse_mode=ParseMode.HTML
            ),
        )
        for entry in entries
    ]
    await query.answer(results, cache_time=30, is_personal=False)


# -- errors ---------------------------------------------------------------------------------------
async def on_error(update: object, context: Context) -> None:
    error = context.error
    if isinstance(error, Forbidden):
        chat = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else "?"
        )
        log.info("cannot send to chat %s: %s", chat, error)
        return
    if isinstance(error, TelegramError):
        # Telegram refused or did not answer: the reply may well have been delivered (a
        # timeout), and an apology would meet the same fault. One line, no "Sorry".
        log.warning("Telegram error while handling an update: %s: %s", type(error).__name__, error)
        return
    if isinstance(error, StoreError):  # the store's outage is logged once, by the store
        log.debug("store error while handling an update: %s", error)
    else:
        log.error("error while handling an update", exc_info=error)
    if (
        isinstance(update, Update)
        and update.effective_message
        and update.effective_chat is not None  # a malformed update's message may have none
        and update.effective_chat.type == ChatType.PRIVATE
    ):
        try:
            await update.effective_message.reply_text(
                STORE_BUSY
                if isinstance(error, StoreError)
                else "Sorry, something went wrong. Please try again."
            )
        except Exception:  # the error handler must never raise
            log.debug("could not apologise", exc_info=True)
