"""Builds the Telegram application in one place and runs it by polling or webhook."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.engine.service import FaqService
from bot.settings import Settings
from bot.storage import Store, open_store
from bot.storage.offloop import OffLoopStore
from bot.telegram import briefings, handlers, maintenance, subscriptions
from bot.telegram.delivery import DeliveryLimiter
from bot.telegram.updates import ChatOrderedProcessor, HandledUpdates, PolledOnlyWithRoom
from bot.telegram.webhook import serve

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("ask", "Ask a question"),
    BotCommand("topics", "Browse the questions by topic"),
    BotCommand("briefing", "A short briefing on a topic"),
    BotCommand("subscribe", "Regular briefings for this chat"),
    BotCommand("subscriptions", "This chat's briefing subscription"),
    BotCommand("unsubscribe", "Stop this chat's briefings"),
    BotCommand("about", "What this bot is and its sources"),
    BotCommand("help", "How to use the bot"),
]
# Only group administrators may change a group's briefings: members are not offered that.
ADMIN_ONLY = {"subscribe", "unsubscribe"}
GROUP_COMMANDS = [c for c in COMMANDS if c.command not in ADMIN_ONLY]
COMMAND_MENUS = [
    (BotCommandScopeAllPrivateChats(), COMMANDS),
    (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
    (BotCommandScopeAllChatAdministrators(), COMMANDS),
]


def build_application(settings: Settings, service: FaqService, store: Store) -> Application:
    if settings.token is None:
        raise ValueError("a token is needed to build the Telegram application")
    processor = ChatOrderedProcessor(HandledUpdates(store))
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,  # the question may be deleted meanwhile
            )
        )
        .rate_limiter(DeliveryLimiter())
        .concurrent_updates(processor)
        .get_updates_request(PolledOnlyWithRoom(processor))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    processor.is_running = lambda: app.running
    app.bot_data.update(settings=settings, service=service, store=store)
    register(app)
    return app


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    app.add_handler(CommandHandler("start", handlers.cmd_start, filters=private))
    app.add_handler(CommandHandler("help", handlers.cmd_help))
    app.add_handler(CommandHandler("about", handlers.cmd_about))
    app.add_handler(CommandHandler("topics", handlers.cmd_topics))
    app.add_handler(CommandHandler("ask", handlers.cmd_ask))
    app.add_handler(CommandHandler("whoami", handlers.cmd_whoami, filters=private))
    maintenance.register(app)
    subscriptions.register(app)
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.on_private_text)
    )
    app.add_handler(
        MessageHandler(groups & filters.TEXT & ~filters.COMMAND, handlers.on_group_text)
    )
    app.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.on_non_text)
    )
    app.add_handler(CallbackQueryHandler(handlers.on_callback))
    app.add_handler(InlineQueryHandler(handlers.on_inline))
    app.add_error_handler(handlers.on_error)


async def _post_init(app: Application) -> None:
    settings: Settings = app.bot_data["settings"]
    try:
        for scope, commands in COMMAND_MENUS:
            await app.bot.set_my_commands(commands, scope=scope)
    except Exception as exc:  # a cosmetic call must not stop the bot
        log.warning("could not set the command list: %s", exc)
    maintenance.schedule(app, settings)
    briefings.schedule(app, settings)
    app.bot_data["started"] = True
    log.info(  # what a deployer checks first; the API root is shown without the token
        "started @%s: %s, Bot API %s, storage %s, %d entries",
        app.bot.username,
        app.bot_data.get("mode", "polling"),
        settings.telegram_api_url,
        app.bot_data["store"].description,
        len(app.bot_data["service"].knowledge.entries),
    )


async def _post_shutdown(app: Application) -> None:
    app.bot_data["store"].close()
    if app.bot_data.get("started"):  # not after a failed start
        log.info("stopped")


class StartFailed(Exception):
    """Telegram would not let the bot start. `reached`: the Bot API answered and said no (a
    rejected token, a refused webhook); otherwise it could not be reached or was too slow."""

    def __init__(self, message: str, *, reached: bool) -> None:
        super().__init__(message)
        self.reached = reached


class _QuietBootstrap(logging.Filter):
    """python-telegram-bot logs a start-up failure with a traceback before raising it; the
    caller reports it as one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Bootstrap Initialize" not in record.getMessage()


class _QuietStop(logging.Filter):
    """At a stop, PTB confirms the updates it fetched with one last getUpdates; with the Bot
    API slow or unreachable that fails, and PTB logs an ERROR with three chained tracebacks
    although nothing is wrong with the bot. A stop is ordinary: one INFO line says what it
    means (those updates come again, and the ones handled already are skipped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "`get_updates` one more time" in str(record.msg):
            exc = record.exc_info[1] if record.exc_info else None
            why = f"{type(exc).__name__}: {exc}" if exc else "no answer"
            record.msg = (
                "stopping: the Bot API did not confirm the last updates fetched (%s);"
                " Telegram sends them again and those already handled are skipped"
            )
            record.args = (why,)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


class _QuietLostPoll(logging.Filter):
    """The same stop, one step earlier: when the Bot API drops the long poll just as the stop
    begins, PTB cancels its polling task after the task has already failed, and asyncio logs
    "Task exception was never retrieved" (an ERROR with a traceback) when it is collected.
    Nothing was lost: the updates of that poll come again. One INFO line says so."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, NetworkError) and "polling_action_cb" in record.getMessage():
            record.msg, record.args = "polling: the Bot API dropped the last poll (%s)", (exc,)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def _start_failed(settings: Settings, exc: TelegramError) -> StartFailed:
    api = settings.telegram_api_url
    if isinstance(exc, InvalidToken):  # its own text quotes the token; the cause says why
        cause = exc.__cause__
        why = cause.message if isinstance(cause, TelegramError) else "rejected"
        return StartFailed(
            f"the Bot API at {api} refused TELEGRAM_BOT_TOKEN ({why} on getMe): check the "
            "token with @BotFather, and that TELEGRAM_API_URL is a Bot API root",
            reached=True,
        )
    if isinstance(exc, NetworkError):
        what = "did not answer getMe in time" if isinstance(exc, TimedOut) else "was unreachable"
        return StartFailed(
            f"the Bot API at {api} {what} ({exc.message}): check TELEGRAM_API_URL and the network",
            reached=False,
        )
    return StartFailed(f"the Bot API at {api} refused to start: {exc.message}", reached=True)


def run(settings: Settings, *, webhook: bool) -> None:
    """Raises StoreError, KnowledgeError or StartFailed before the bot serves anyone."""
    store = OffLoopStore(open_store(settings.database, settings.bot_data_dir))
    try:
        service = FaqService(settings.knowledge_dir, store)  # KnowledgeError: nothing starts
    except BaseException:
        store.close()
        raise
    app = build_application(settings, service, store)
    app.bot_data["mode"] = "webhook" if webhook else "polling"
    quiet, stop = _QuietBootstrap(), _QuietStop()
    logging.getLogger("telegram.ext").addFilter(quiet)
    logging.getLogger("telegram.ext.Updater").addFilter(stop)
    logging.getLogger("asyncio").addFilter(_QuietLostPoll())
    try:
        if webhook:
            url = settings.webhook_url
            asyncio.run(
                serve(
                    app,
                    listen=str(settings.webhook_listen),
                    port=settings.port,
                    path=urlparse(url).path,
                    url=url,
                    secret=settings.webhook_secret.get_secret_value(),
                )
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except TelegramError as exc:
        raise _start_failed(settings, exc) from None
    finally:
        logging.getLogger("telegram.ext").removeFilter(quiet)
        logging.getLogger("telegram.ext.Updater").removeFilter(stop)
