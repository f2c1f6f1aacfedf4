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
import errno
import hmac
import json
import logging
import resource
import signal
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not from it
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LARGEST_UPDATE_ID = 2**63 - 1  # what the store of handled updates holds (bot.storage)
HEADER_TIMEOUT = 10.0  # seconds for a request's headers, and for an idle connection's next one
BODY_TIMEOUT = 10.0  # seconds for a body (Telegram sends a few kilobytes at once)
MAX_CONNECTIONS = 1000  # open at once; Telegram itself uses at most 40 (setWebhook below)
SPARE_FILES = 100  # descriptors kept for the store, the Bot API client and the FAQ's files
REFUSAL_LOG_EVERY = 60.0  # seconds between log lines about refused requests of one kind


class Refusals:
    """A log line for a kind of refusal (no secret, a connection past the cap, an accept that
    failed), at most one a minute, counting those it did not log: a deployer who mistyped the
    secret sees it at once, a flood of them does not fill the disk."""

    def __init__(self, message: str, level: int = logging.WARNING) -> None:
        self.message = message
        self.level = level
        self._logged = -REFUSAL_LOG_EVERY
        self._unlogged = 0

    def __call__(self, *args: object) -> None:
        now = time.monotonic()
        if now - self._logged < REFUSAL_LOG_EVERY:
            self._unlogged += 1
            return
        more = f" (and {self._unlogged} more since the last such line)" if self._unlogged else ""
        log.log(self.level, self.message + more, *args)
        self._logged, self._unlogged = now, 0

    def reset(self) -> None:
        """The fault is over: the next one is logged at once."""
        self._logged = -REFUSAL_LOG_EVERY
        self._unlogged = 0


_wrong_secret = Refusals(
    "webhook: refused a request from %s without the right secret (403): if it was Telegram,"
    " WEBHOOK_SECRET differs from the secret set with setWebhook",
)
_over_cap = Refusals("webhook: %d connections open, the most allowed: closed the oldest idle one")
_accept_failed = Refusals(
    "webhook: cannot accept connections: %s; retrying every 0.5 s (logged once a minute)"
)


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """One POST per update. Streaming the body lets prepare() refuse a request on its headers
    (no secret, too long, not JSON) before the body is read; a refused request's connection is
    closed, so what the client was still sending is never read either."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, app: Application, secret: str, connections: Connections) -> None:
        self.app = app
        self.secret = secret.encode()
        self.connections = connections
        self.body = bytearray()

    def on_finish(self) -> None:
        self.connections.busy.discard(self.request.connection.stream)

    def on_connection_close(self) -> None:
        self.connections.busy.discard(self.request.connection.stream)

    def prepare(self) -> None:
        self.connections.busy.add(self.request.connection.stream)
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            _wrong_secret(self.request.remote_ip)
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
        processor = self.app.update_processor
        backlog = getattr(processor, "backlog", None)
        if backlog is not None and processor.unfinished >= backlog:
            # Acknowledged means Telegram forgets it: only what the bot will handle soon is
            # acknowledged, so a kill loses at most `backlog`; Telegram sends the rest again.
            self.set_header("Retry-After", "1")
            self.refuse(HTTPStatus.SERVICE_UNAVAILABLE)
            return
        self.app.bot.insert_callback_data(update)
        if backlog is not None:
            processor.took(1)
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


class Connections:
    """The connections open now, oldest first, and those with a request being handled."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: OrderedDict[IOStream, None] = OrderedDict()
        self.busy: set[IOStream] = set()


class CappedServer(HTTPServer):
    """Tornado's HTTP server with limits an idle-connection flood cannot get past: headers and
    bodies must arrive within seconds (HEADER_TIMEOUT also closes an idle keep-alive
    connection), at most `cap` connections are open (past it the oldest idle one is closed,
    so Telegram's new connection always gets in; if all are busy the new one is closed
    unread), and an accept() that fails (out of descriptors) pauses accepting for half a
    second with one log line, instead of a traceback per attempt in a busy loop."""

    def initialize(self, *args: Any, connections: Connections, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(
            *args, idle_connection_timeout=HEADER_TIMEOUT, body_timeout=BODY_TIMEOUT, **kwargs
        )
        self.connections = connections

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        held = self.connections
        if len(held.open) >= held.cap:
            idle = next((s for s in held.open if s not in held.busy), None)
            if idle is None:
                stream.close()
                return
            held.open.pop(idle)
            idle.close()
            _over_cap(held.cap)
        held.open[stream] = None
        super().handle_stream(stream, address)

    def on_close(self, server_conn: Any) -> None:
        self.connections.open.pop(server_conn.stream, None)
        self.connections.busy.discard(server_conn.stream)
        super().on_close(server_conn)

    def add_sockets(self, sockets: Any) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = _accept_handler(sock, self._handle_connection)


_PAUSE_ON = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def _accept_handler(sock: socket.socket, callback: Callable[[socket.socket, Any], None]):
    """tornado.netutil.add_accept_handler, except that running out of descriptors (or memory)
    stops accepting for half a second with one log line: tornado raised on each attempt, and
    the listening socket, still readable, made that a traceback per loop turn."""
    loop = IOLoop.current()
    state = {"removed": False, "paused": False}

    def resume() -> None:
        if not state["removed"]:
            state["paused"] = False
            loop.add_handler(sock, accept, IOLoop.READ)

    def accept(fd: Any, events: int) -> None:
        for _ in range(128):
            if state["removed"]:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _PAUSE_ON:
                    raise
                _accept_failed(exc.strerror)
                loop.remove_handler(sock)
                state["paused"] = True
                loop.call_later(0.5, resume)
                return
            callback(connection, address)

    def remove() -> None:
        if not state["paused"]:
            loop.remove_handler(sock)
        state["removed"] = True

    loop.add_handler(sock, accept, IOLoop.READ)
    return remove


def raise_file_limit() -> int:
    """The soft limit on open descriptors raised to the hard one (often 1,024 against
    1,048,576): each connection is one. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


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
    files = raise_file_limit()
    connections = Connections(max(16, min(MAX_CONNECTIONS, files - SPARE_FILES)))
    handler_args = {"app": app, "secret": secret, "connections": connections}
    route = [(rf"/{path.strip('/')}/?", UpdateHandler, handler_args)]
    server = CappedServer(_Quiet(route), connections=connections)  # bodies: UpdateHandler's 413
    try:
        try:  # first: a port in use is one line, before anything says "started"
            server.listen(port, address=listen)
        except OSError as exc:
            raise ListenFailed(f"cannot listen on {listen}:{port}: {exc.strerror}") from None
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.bot.set_webhook(
            url, secret_token=secret, allowed_updates=Update.ALL_TYPES, max_connections=40
        )
        await app.start()
        log.info(
            "webhook listening on %s:%d (at most %d connections)", listen, port, connections.cap
        )
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
