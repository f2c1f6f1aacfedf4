"""Telegram glue for briefings: /briefing, /subscribe, /unsubscribe, /subscriptions, the job
that sends scheduled briefings, and what happens when a chat moves or drops the bot.

Every send goes through context.bot, the application's bot, so the rate limiter in
bot/delivery.py paces it and waits out a 429. What to send and when is bot/briefings.py's."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import weakref
from dataclasses import dataclass
from html import escape

from telegram import (
    Bot,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import keyboards
from bot.briefings import (
    Briefing,
    Briefings,
    Due,
    Schedule,
    UsageError,
    briefing_html,
    parse_request,
    unknown_topic_html,
    usage_html,
)
from bot.delivery import DeliveryLimiter
from bot.settings import Settings
from bot.store import Subscription

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
PARALLEL_SENDS = 8
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
MANAGERS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
_CHAT_REF = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-\d{5,}")
# Commands are read in messages and, for channels, in channel posts (not in edits: editing a
# /briefing must not post another one).
COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST


def register(app: Application) -> None:
    """Add the handlers: call before the generic text handlers, which would not claim a
    command anyway but keep that order by convention."""
    app.add_handler(CommandHandler("briefing", cmd_briefing, filters=COMMAND_UPDATES))
    app.add_handler(CommandHandler("subscribe", cmd_subscribe, filters=COMMAND_UPDATES))
    app.add_handler(CommandHandler("unsubscribe", cmd_unsubscribe, filters=COMMAND_UPDATES))
    app.add_handler(CommandHandler("subscriptions", cmd_subscriptions, filters=COMMAND_UPDATES))
    # Their own group: a chat's subscription follows it whatever else handles the update.
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=1)
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=1)


def schedule(app: Application, settings: Settings) -> None:
    """One job checks every few seconds for briefings due; its first run, a second after
    start, sends what was missed while the bot was down (see briefings.CATCH_UP)."""
    app.job_queue.run_repeating(
        tick,
        interval=settings.briefing_check_seconds,
        first=min(1.0, settings.briefing_check_seconds),
        name="briefings",
    )


def briefings(context: Context) -> Briefings:
    data = context.bot_data
    if "briefings" not in data:
        faq = data["service"]
        data["briefings"] = Briefings(lambda: faq.knowledge, data["store"])
    return data["briefings"]


def _locks(context: Context) -> weakref.WeakValueDictionary[int, asyncio.Lock]:
    return context.bot_data.setdefault("briefing_locks", weakref.WeakValueDictionary())


# -- sending --------------------------------------------------------------------------------------
def briefing_keyboard(
    bot_username: str | None, chat_id: int | str, topic_id: str
) -> InlineKeyboardMarkup | None:
    """In a private chat, the topic's questions; elsewhere, a link to ask the bot privately
    (a button that answered in a group or channel would post there for everyone)."""
    if isinstance(chat_id, int) and chat_id > 0:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "More on this topic", callback_data=f"{keyboards.MORE}:{topic_id}"
                    )
                ]
            ]
        )
    return keyboards.ask_more_keyboard(bot_username) if bot_username else None


async def send_briefing(
    bot: Bot, chat_id: int | str, briefing: Briefing, reply_to: int | None = None
) -> Message:
    return await bot.send_message(
        chat_id,
        briefing_html(briefing),
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=briefing_keyboard(bot.username, chat_id, briefing.topic.id),
        reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
        if reply_to
        else None,
    )


async def deliver(
    context: Context, chat_id: int, topic_id: str | None, reply_to: int | None = None
) -> Message | None:
    """Send a chat its next briefing and advance its rotation once it is delivered.

    A group that became a supergroup is followed to its new id (subscription and rotation
    move with it); a chat that refuses the bot (403, or gone) has its subscription paused.
    Returns None when nothing could be delivered."""
    svc = briefings(context)
    for _ in range(3):  # a migrated chat is followed, but not round in circles
        lock = _locks(context).setdefault(chat_id, asyncio.Lock())
        async with lock:
            chosen = svc.next_for(chat_id, topic_id)
            try:
                message = await send_briefing(context.bot, chat_id, chosen.briefing, reply_to)
            except ChatMigrated as exc:
                svc.store.move_chat(chat_id, exc.new_chat_id)
                log.info("chat %s became supergroup %s: briefings moved", chat_id, exc.new_chat_id)
                chat_id, reply_to = exc.new_chat_id, None
                continue
            except Forbidden as exc:
                _pause(svc, chat_id, exc.message)
                return None
            except BadRequest as exc:
                if "chat not found" not in exc.message.lower():
                    raise
                _pause(svc, chat_id, exc.message)
                return None
            svc.shown(chat_id, chosen)
        log.info(
            "briefing chat=%s topic=%s facts=%d",
            chat_id,
            chosen.briefing.topic.id,
            len(chosen.briefing.facts),
        )
        return message
    return None


def _pause(svc: Briefings, chat_id: int, reason: str) -> None:
    if svc.store.set_paused(chat_id, True):
        log.warning("briefings paused for chat %s: %s", chat_id, reason)
    else:
        log.info("cannot send a briefing to chat %s: %s", chat_id, reason)


async def tick(context: Context) -> None:
    """Send every briefing that is due, each at most once (claimed in the store first)."""
    due = briefings(context).due()
    if not due:
        return
    slots = asyncio.Semaphore(PARALLEL_SENDS)

    async def send(item: Due) -> None:
        async with slots:
            await _send_due(context, item)

    await asyncio.gather(*(send(item) for item in due))


async def _send_due(context: Context, item: Due) -> None:
    svc = briefings(context)
    sub = item.subscription
    if not svc.store.claim_briefing(sub.chat_id, sub.last_sent, time.time()):
        return  # sent meanwhile, by an overlapping check or another process
    late = dt.datetime.now(dt.UTC) - item.occurrence
    log.info(
        "scheduled briefing chat=%s due=%s late_s=%.0f",
        sub.chat_id,
        item.occurrence.isoformat(),
        late.total_seconds(),
    )
    try:
        await deliver(context, sub.chat_id, sub.topic)
    except TelegramError as exc:  # claimed: not retried, so never sent twice
        log.error("scheduled briefing for chat %s failed: %s", sub.chat_id, exc)


# -- commands -------------------------------------------------------------------------------------
async def _reply(update: Update, html: str) -> None:
    message = update.effective_message
    await message.reply_html(
        html, do_quote=message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    )


async def cmd_briefing(update: Update, context: Context) -> None:
    message, chat = update.effective_message, update.effective_chat
    query = " ".join(context.args or []).strip()
    topic_id = None
    if query:
        match = briefings(context).find_topic(query)
        if match.topic is None:
            await _reply(update, unknown_topic_html(query, match, briefings(context).knowledge))
            return
        topic_id = match.topic.id
    in_group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    await deliver(context, chat.id, topic_id, reply_to=message.message_id if in_group else None)


@dataclass(frozen=True)
class Target:
    """The chat a command is about: this one, or one a maintainer named from a private chat."""

    chat_id: int
    label: str
    args: list[str]
    here: bool = True


def _label(chat: Chat) -> str:
    return f"@{chat.username}" if chat.username else chat.title or str(chat.id)


def _is_maintainer(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.bot_data["settings"].bot_admin_ids


async def _target(update: Update, context: Context, *, change: bool) -> Target | str:
    """Which chat, or why the sender may not do this (the text to send them)."""
    chat = update.effective_chat
    args = list(context.args or [])
    if chat.type == ChatType.PRIVATE and args and _CHAT_REF.fullmatch(args[0]):
        if not _is_maintainer(update, context):
            return "Only the bot's maintainers can manage another chat's briefings from here."
        ref = args[0]
        try:
            other = await context.bot.get_chat(int(ref) if ref.lstrip("-").isdigit() else ref)
        except TelegramError as exc:
            return f"I can't see {ref} ({exc.message}). Add me to it as an administrator first."
        return Target(other.id, _label(other), args[1:], here=False)
    if change:
        refusal = await _refusal(update, context)
        if refusal:
            return refusal
    return Target(chat.id, "this chat", args)


async def _refusal(update: Update, context: Context) -> str | None:
    """None if the sender may change this chat's briefings, else what to tell them.

    Anyone in a private chat; in a channel, its own posts (only its admins can post);
    in a group, its administrators (also when posting anonymously) and the maintainers."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
        return None
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return None  # an anonymous administrator
    if _is_maintainer(update, context):
        return None
    refusal = "Only this group's administrators can change its briefings."
    if user is None:
        return refusal
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("could not check chat %s membership of %s: %s", chat.id, user.id, exc)
        return "I couldn't check whether you are an administrator here; please try again."
    return None if member.status in MANAGERS else refusal


async def _cannot_post(context: Context, target: Target) -> str | None:
    """Before a maintainer subscribes another chat: may the bot post there?"""
    try:
        chat = await context.bot.get_chat(target.chat_id)
        me: ChatMember = await context.bot.get_chat_member(target.chat_id, context.bot.id)
    except TelegramError as exc:
        return f"I can't check my rights in {target.label} ({exc.message})."
    if me.status == ChatMemberStatus.OWNER:
        return None
    if chat.type == ChatType.CHANNEL:
        if me.status == ChatMemberStatus.ADMINISTRATOR and getattr(me, "can_post_messages", None):
            return None
        return (
            f"I can't post in {target.label}. Make me an administrator there with the right "
            "to post messages, then try again."
        )
    if me.status in PRESENT or getattr(me, "can_send_messages", False):
        return None
    return f"I can't post in {target.label}. Add me to it first, then try again."


def _when(when: dt.datetime, schedule: Schedule) -> str:
    local = when.astimezone(schedule.zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {schedule.timezone}"


def _status_html(svc: Briefings, target: Target, sub: Subscription) -> str:
    schedule = Schedule.from_spec(sub.schedule, sub.timezone)
    whose = "This chat" if target.here else escape(target.label)
    what = f"{whose}: a briefing on {escape(svc.describe(sub))}."
    if sub.paused:
        return (
            f"{what}\n<b>Paused</b>: I could not post there. An administrator can send "
            "/subscribe again to resume."
        )
    return f"{what}\nNext: {escape(_when(svc.next_time(sub), schedule))}."


async def cmd_subscribe(update: Update, context: Context) -> None:
    if context.args and context.args[0].casefold() in ("help", "?"):
        await _reply(update, usage_html())
        return
    target = await _target(update, context, change=True)
    if isinstance(target, str):
        await _reply(update, escape(target))
        return
    svc = briefings(context)
    try:
        topic_text, schedule_ = parse_request(target.args)
    except UsageError as exc:
        await _reply(update, usage_html(str(exc)))
        return
    topic_id = None
    if topic_text:
        match = svc.find_topic(topic_text)
        if match.topic is None:
            await _reply(update, unknown_topic_html(topic_text, match, svc.knowledge))
            return
        topic_id = match.topic.id
    if not target.here:
        problem = await _cannot_post(context, target)
        if problem:
            await _reply(update, escape(problem))
            return
    sub = svc.subscribe(target.chat_id, topic_id, schedule_)
    log.info(
        "subscribed chat=%s topic=%s schedule=%r timezone=%s",
        target.chat_id,
        topic_id or "all",
        sub.schedule,
        sub.timezone,
    )
    await _reply(
        update,
        "<b>Subscribed.</b> "
        + _status_html(svc, target, sub)
        + "\nChange it with /subscribe, stop it with /unsubscribe.",
    )


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    target = await _target(update, context, change=True)
    if isinstance(target, str):
        await _reply(update, escape(target))
        return
    where = "here" if target.here else f"in {target.label}"
    if briefings(context).store.unsubscribe(target.chat_id):
        log.info("unsubscribed chat=%s", target.chat_id)
        await _reply(update, escape(f"Unsubscribed: no more scheduled briefings {where}."))
    else:
        await _reply(update, escape(f"There was no briefing subscription {where}."))


async def cmd_subscriptions(update: Update, context: Context) -> None:
    target = await _target(update, context, change=False)
    if isinstance(target, str):
        await _reply(update, escape(target))
        return
    svc = briefings(context)
    sub = svc.store.subscription(target.chat_id)
    if sub is None:
        whose = "This chat has" if target.here else f"{target.label} has"
        await _reply(
            update,
            f"{escape(whose)} no briefing subscription. Start one with /subscribe "
            "(all topics, daily at 09:00 UTC unless you say otherwise; "
            "<code>/subscribe help</code> for the options).",
        )
        return
    await _reply(update, _status_html(svc, target, sub))


# -- chat events ----------------------------------------------------------------------------------
async def on_my_chat_member(update: Update, context: Context) -> None:
    """Removed from a chat: pause its briefings. Added back: resume them from now on."""
    change = update.my_chat_member
    chat_id = change.chat.id
    old, new = change.old_chat_member.status, change.new_chat_member.status
    store = briefings(context).store
    if new in GONE and store.set_paused(chat_id, True):
        log.warning("briefings paused for chat %s: the bot was removed (%s)", chat_id, new)
    elif old in GONE and new in PRESENT and store.set_paused(chat_id, False):
        log.info("briefings resumed for chat %s: the bot is back (%s)", chat_id, new)


async def on_migrate(update: Update, context: Context) -> None:
    """A group upgraded to a supergroup gets a new id: its subscription and rotation follow.
    Telegram sends two service messages (one in each chat); the second finds nothing to move."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    if briefings(context).store.move_chat(old, new):
        log.info("chat %s became supergroup %s: briefings moved", old, new)


# -- the command line's --post --------------------------------------------------------------------
async def post_once(settings: Settings, chat: int | str, briefing: Briefing) -> Message:
    """`python -m bot brief --post`: one briefing, through the same rate limiter as the bot."""
    if settings.token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bot = ExtBot(
        settings.token,
        base_url=f"{settings.telegram_api_url}/bot",
        base_file_url=f"{settings.telegram_api_url}/file/bot",
        rate_limiter=DeliveryLimiter(),
    )
    async with bot:
        return await send_briefing(bot, chat, briefing)
