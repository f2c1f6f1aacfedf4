"""The webhook: Telegram posts each update to WEBHOOK_URL, and this small server hands it to the
application's update queue, the same queue polling fills.

Our own server rather than python-telegram-bot's (its customwebhookbot pattern): PTB's answers
HTTP 500 to a body that is not JSON or not UTF-8, reads bodies of up to 100 MB before it looks
at the secret, and refuses `application/json; charset=utf-8` with 403. Here the secret is checked
on the headers alone, before a byte of the body is read; bodies are capped (an update is a few
kilobytes); a bad body is a 400, which Telegram does not retry."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from http import HTTPStatus

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not from it
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LARGEST_UPDATE_ID = 2**63 - 1  # what the store of handled updates holds (bot.storage)


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """One POST per update. Streaming the body lets prepare() refuse a request on its headers
    (no secret, too long, not JSON) before the body is read; a refused request's connection is
    closed, so what the client was still sending is never read either."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, app: Application, secret: str) -> None:
        self.app = app
        self.secret = secret.encode()
        self.body = bytearray()

    def prepare(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            return self.refuse(HTTPStatus.FORBIDDEN)
        length = self.request.headers.get("Content-Length", "")
        if length and (not length.isdigit() or int(length) > MAX_BODY):
            return self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        media = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return self.refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        return None

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self.body += chunk
        if len(self.body) > MAX_BODY:  # a chunked body that never said how long it is
            self.body.clear()
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    async def post(self) -> None:
        try:
            data = json.loads(bytes(self.body).decode("utf-8"))
            update = Update.de_json(data, self.app.bot) if _update_id_ok(data) else None
        except Exception as exc:  # noqa: BLE001 - whatever the body is, it is the sender's fault
            log.warning("webhook: refused a body that is not an update: %s", type(exc).__name__)
            update = None
        if update is None:
            self.refuse(HTTPStatus.BAD_REQUEST)
            return
        self.app.bot.insert_callback_data(update)
        await self.app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def refuse(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.finish()

    def log_exception(self, *args: object) -> None:  # one line above, no tornado traceback
        pass


def _update_id_ok(data: object) -> bool:
    """Telegram numbers updates with positive integers. Any other id (a string, a float, a
    number the store cannot hold) would reach the handlers and break the record that keeps a
    redelivered update from being answered twice."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return type(update_id) is int and 0 < update_id <= LARGEST_UPDATE_ID


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        pass


class ListenFailed(Exception):
    """The webhook's address or port cannot be bound (in use, not ours, no permission): a
    setting to change, found before Telegram is pointed at a server that is not there."""


async def serve(app: Application, *, listen: str, port: int, path: str, url: str, secret: str):
    """Start the application and serve the webhook until SIGINT or SIGTERM: listen first, so an
    update Telegram sends as soon as the webhook is set finds the server, then setWebhook (with
    the secret), then process updates. TelegramError from getMe or setWebhook is raised before
    anything is served; the application is shut down either way."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGABRT):
        loop.add_signal_handler(sig, stopping.set)
    route = [(rf"/{path.strip('/')}/?", UpdateHandler, {"app": app, "secret": secret})]
    server = HTTPServer(_Quiet(route))  # bodies are capped by UpdateHandler, with a 413
    try:
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        try:
            server.listen(port, address=listen)
        except OSError as exc:
            raise ListenFailed(f"cannot listen on {listen}:{port}: {exc.strerror}") from None
        await app.bot.set_webhook(
            url, secret_token=secret, allowed_updates=Update.ALL_TYPES, max_connections=40
        )
        await app.start()
        log.info("webhook listening on %s:%d", listen, port)
        await stopping.wait()
    finally:
        server.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.close_all_connections(), 5)
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
