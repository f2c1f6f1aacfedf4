"""Telegram glue for the briefing commands: /briefing, /subscribe, /unsubscribe and
/subscriptions, with the admin checks that decide who may change a chat's subscription."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from html import escape

from telegram import (
    Chat,
    ChatMember,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.engine.briefings import (
    Briefings,
    Schedule,
    UsageError,
    parse_request,
    unknown_topic_html,
    usage_html,
)
from bot.storage import Subscription
from bot.telegram.briefings import PRESENT, briefings, deliver, on_migrate, on_my_chat_member

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
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
