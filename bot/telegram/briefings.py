"""Telegram glue that sends briefings: on /briefing, on schedule (a job), and once from the
command line; and what happens when a chat moves or drops the bot.

Every send goes through the application's bot, so the rate limiter in bot.telegram.delivery
paces it and waits out a 429. What to send and when is bot.engine.briefings's."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import weakref

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ContextTypes,
    ExtBot,
)

from bot.engine.briefings import (
    Briefing,
    Briefings,
    Due,
    briefing_html,
)
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.delivery import DeliveryLimiter

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
PARALLEL_SENDS = 8
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


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
class PostFailed(RuntimeError):
    """Telegram refused the post; the message is Telegram's, for one line on the terminal."""


async def post_once(settings: Settings, chat: int | str, briefing: Briefing) -> int:
    """`python -m bot brief --post`: one briefing, through the same rate limiter as the bot.
    Returns the posted message's id."""
    if settings.token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bot = ExtBot(
        settings.token,
        base_url=f"{settings.telegram_api_url}/bot",
        base_file_url=f"{settings.telegram_api_url}/file/bot",
        rate_limiter=DeliveryLimiter(),
    )
    try:
        async with bot:
            return (await send_briefing(bot, chat, briefing)).message_id
    except TelegramError as exc:
        raise PostFailed(exc.message) from exc
