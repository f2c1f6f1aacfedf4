"""The maintainers' side of the bot: reloads (watched and on /reload), /report, retention."""

from __future__ import annotations

import asyncio
import logging
from html import escape

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.engine import report
from bot.engine.service import FaqService, ReloadOutcome, fingerprint
from bot.settings import Settings

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
LIMIT = 4000
SETTLE = 1.0  # seconds knowledge/ must stay unchanged before a reload


def register(app: Application) -> None:
    app.add_handler(CommandHandler("reload", cmd_reload))
    app.add_handler(CommandHandler("report", cmd_report))


def schedule(app: Application, settings: Settings) -> None:
    jobs = app.job_queue
    jobs.run_repeating(
        watch_knowledge,
        interval=settings.reload_interval,
        first=settings.reload_interval,
        name="watch",
    )
    jobs.run_repeating(purge, interval=86400, first=60, name="retention")


def _pre(text: str) -> str:
    text = text if len(text) <= LIMIT else text[: LIMIT - 20] + "\n… (truncated)"
    return f"<pre>{escape(text)}</pre>"


async def tell_admins(context: Context, text: str) -> None:
    for admin in context.bot_data["settings"].bot_admin_ids:
        try:
            await context.bot.send_message(admin, _pre(text))
        except TelegramError as exc:
            log.warning("could not tell admin %s: %s", admin, exc)


def _reloading(context: Context) -> asyncio.Lock:
    return context.bot_data.setdefault("reloading", asyncio.Lock())


async def _settled(service: FaqService) -> tuple:
    """Wait until knowledge/ has not changed for SETTLE seconds: an editor that saves in two
    writes leaves a half file for a moment, and half a file can be valid YAML with entries
    missing. Returns the fingerprint that stayed."""
    seen = None
    while (now := await asyncio.to_thread(fingerprint, service.knowledge_dir)) != seen:
        seen = now
        await asyncio.sleep(SETTLE)
    return now


async def reload(context: Context) -> ReloadOutcome:
    """One reload at a time, built in a thread: answering goes on meanwhile, from the old
    version, however large or slow the new one is. A save can still land after the settle
    check and before the files are read: the files are checked again once read, and if they
    changed nothing is swapped; the reload waits for them to settle and reads them again."""
    service: FaqService = context.bot_data["service"]
    async with _reloading(context):
        while True:
            settled = await _settled(service)
            outcome = await asyncio.to_thread(service.reload, settled)
            if outcome is not None:
                return outcome
            log.info("knowledge/ changed while it was read: reading it again once it settles")


async def watch_knowledge(context: Context) -> None:
    service: FaqService = context.bot_data["service"]
    if _reloading(context).locked() or not service.changed_on_disk():
        return
    context.application.create_task(_reload_and_tell(context), name="reload")


async def _reload_and_tell(context: Context) -> None:
    outcome = await reload(context)
    _log_reload("knowledge changed on disk", outcome)
    await tell_admins(context, outcome.summary())


def _log_reload(how: str, outcome: ReloadOutcome) -> None:
    """A refused reload is a warning: the bot keeps serving an older FAQ than the one on disk."""
    level = logging.INFO if outcome.ok else logging.WARNING
    log.log(level, "%s: %s", how, outcome.summary().splitlines()[0])
    for problem in outcome.problems:  # file:line: message, as `validate` prints them
        log.warning("%s", problem)


async def purge(context: Context) -> None:
    days = context.bot_data["settings"].retention_days
    gone = await asyncio.to_thread(context.bot_data["store"].purge, days)
    if gone:
        log.info("retention: removed %d rows older than %d days", gone, days)


def _admin_in_private(update: Update, context: Context) -> bool:
    user = update.effective_user
    return (
        update.effective_chat is not None
        and update.effective_chat.type == ChatType.PRIVATE
        and user is not None
        and user.id in context.bot_data["settings"].bot_admin_ids
    )


async def cmd_reload(update: Update, context: Context) -> None:
    if not _admin_in_private(update, context):
        await update.effective_message.reply_text(
            "Only the bot's maintainers can reload it, in a private chat."
        )
        return
    outcome = await reload(context)
    _log_reload("reload by admin", outcome)
    await update.effective_message.reply_html(_pre(outcome.summary()))


async def cmd_report(update: Update, context: Context) -> None:
    if not _admin_in_private(update, context):
        await update.effective_message.reply_text(
            "Only the bot's maintainers can see the report, in a private chat."
        )
        return
    served = context.bot_data["service"]
    data = await asyncio.to_thread(  # off the event loop: a slow store delays no answer
        report.build, served.knowledge, context.bot_data["store"], served.matcher, reread=10
    )
    await update.effective_message.reply_html(_pre(report.as_markdown(data, limit=10)))
