"""How updates reach the handlers: many chats at once, each chat's in order, and no more taken
from Telegram than the bot can start on soon.

One at a time (PTB's default), one user sending fifteen messages delayed everyone else's
answers by 14 s, because each chat's pacing waits happened inside the handler. Here each
update runs as soon as the previous update of its own chat is done, so a chat waits only for
its own traffic.

Telegram forgets updates once the next poll confirms them, so anything taken and not yet
answered dies with a killed process. The poll therefore asks for more only while fewer than
`backlog` updates are waiting to start or running (updates queued behind an earlier one of the
same chat do not count, so one flooding chat cannot stall the others), and for no more than
there is room for; the rest wait at Telegram.

The converse: a killed process leaves its last batch unconfirmed, and Telegram delivers it again
to the next one, answered or not. Each update handled is therefore recorded in the store
(HandledUpdates), and one already handled is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import HTTPXRequest, RequestData

from bot.storage import HANDLED_KEEP, HANDLED_KEEP_SECONDS, Store

log = logging.getLogger(__name__)
ChatKey = tuple[str, int]


def chat_key(update: object) -> ChatKey | None:
    """Whose order an update belongs to: its chat, or its user when it has none (inline)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class HandledUpdates:
    """The ids of updates handled (or being handled) lately: in memory for the check, in the
    store so that the next process knows them too. An id is recorded once its handler is done,
    so what a kill interrupts is handled again; only a reply sent in the moment between
    Telegram accepting it and the store's commit can still go out twice."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._recent: deque[int] = deque(maxlen=HANDLED_KEEP)
        self._known: set[int] = set()
        self._in_hand: set[int] = set()
        for update_id in store.handled_since(time.time() - HANDLED_KEEP_SECONDS):
            self._remember(update_id)

    def _remember(self, update_id: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._known.discard(self._recent[0])
        self._recent.append(update_id)
        self._known.add(update_id)

    def take(self, update_id: int) -> bool:
        """False if the update was handled already or is being handled: skip it."""
        if update_id in self._known or update_id in self._in_hand:
            return False
        self._in_hand.add(update_id)
        return True

    def done(self, update_id: int, *, handled: bool) -> None:
        self._in_hand.discard(update_id)
        if not handled:  # dropped at a stop: Telegram may deliver it again, and it is welcome
            return
        self._remember(update_id)
        try:
            self._store.record_handled(update_id)
        except Exception as exc:  # noqa: BLE001 - the reply is out; a full disk must not stop us
            log.warning("could not record update %d as handled: %s", update_id, exc)


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        handled: HandledUpdates | None = None,
        *,
        running: int = 64,
        backlog: int = 32,
        queued: int = 8192,
        grace: float = 3.0,
    ) -> None:
        super().__init__(queued)  # PTB's own cap: updates held in memory at all
        self.handled = handled
        self.backlog = backlog
        self.grace = grace
        self.is_running: Callable[[], bool] = lambda: True  # the application's, once built
        self._handling: set[asyncio.Future[Any]] = set()
        self._dropping = False
        self._dropped = 0
        self._watch: asyncio.Task[None] | None = None
        self._running = asyncio.Semaphore(running)
        self._turns: dict[ChatKey, asyncio.Lock] = {}
        self._waiting: dict[ChatKey, int] = {}
        self._taken = 0  # fetched from Telegram, not yet here
        self._heads = 0  # first of their chat: running or about to
        self._open = 0  # here and not done: running, or waiting for their chat's turn
        self._changed = asyncio.Event()

    async def initialize(self) -> None:
        self._watch = asyncio.create_task(self._end_stragglers())

    async def shutdown(self) -> None:
        if self._watch:
            self._watch.cancel()
        if self._dropped:
            log.warning("stopping: %d update(s) dropped unanswered", self._dropped)

    async def _end_stragglers(self) -> None:
        """On stop PTB waits for every update taken to be handled, and a group's minute or a
        long 429 could hold a SIGTERM for a minute: after `grace` seconds, drop what is left."""
        while not self.is_running():
            await asyncio.sleep(0.2)
        while self.is_running():
            await asyncio.sleep(0.2)
        await asyncio.sleep(self.grace)
        self._dropping = True
        while True:
            for handling in self._handling:
                handling.cancel()
            await asyncio.sleep(0.1)

    async def _run(self, coroutine: Awaitable[Any]) -> bool:
        """An update whose turn has come: it counts as in hand until it is done. False if it
        was dropped unhandled."""
        self._settle(heads=1)
        try:
            async with self._running:
                return await self._handle(coroutine)
        finally:
            self._settle(heads=-1)

    async def _handle(self, coroutine: Awaitable[Any]) -> bool:
        if self._dropping:
            self._dropped += 1
            _close(coroutine)
            return False
        handling = asyncio.ensure_future(coroutine)
        self._handling.add(handling)
        try:
            await handling
        except asyncio.CancelledError:
            if not (self._dropping and handling.cancelled()):
                raise
            self._dropped += 1
            return False
        finally:
            self._handling.discard(handling)
        return True

    def took(self, count: int) -> None:
        self._taken += count

    @property
    def in_hand(self) -> int:
        """Updates taken from Telegram that would be lost now (queued behind their chat aside)."""
        return self._taken + self._heads

    @property
    def unfinished(self) -> int:
        """Updates acknowledged and not yet handled, however they wait: what a kill would lose
        (the webhook acknowledges no more than `backlog` of them)."""
        return self._taken + self._open

    async def room(self) -> int:
        """Wait until fewer than `backlog` updates are in hand; how many more may be taken."""
        while self.in_hand >= self.backlog:
            self._changed.clear()
            await self._changed.wait()
        return self.backlog - self.in_hand

    def _settle(self, taken: int = 0, heads: int = 0) -> None:
        self._taken = max(0, self._taken + taken)
        self._heads += heads
        self._changed.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._settle(taken=-1)
        self._open += 1
        try:
            await self._process(update, coroutine)
        finally:
            self._open -= 1

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if self.handled is None or update_id is None:
            await self._in_turn(update, coroutine)
            return
        if not self.handled.take(update_id):
            log.info("update %d was handled already: skipped", update_id)
            _close(coroutine)
            return
        handled = False
        try:
            handled = await self._in_turn(update, coroutine)
        finally:
            self.handled.done(update_id, handled=handled)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> bool:
        key = chat_key(update)
        if key is None:
            return await self._run(coroutine)
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with turn:  # asyncio.Lock wakes waiters first come, first served
                return await self._run(coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._turns[key]


def _close(coroutine: Awaitable[Any]) -> None:
    """An update's handling that will not run: closed, so Python does not warn it was never
    awaited."""
    if inspect.iscoroutine(coroutine):
        coroutine.close()


class _Limited:
    """getUpdates parameters with `limit` set: the two attributes HTTPXRequest reads."""

    def __init__(self, data: RequestData, limit: int) -> None:
        self.multipart_data = data.multipart_data
        self.json_parameters = {**data.json_parameters, "limit": str(limit)}


class PolledOnlyWithRoom(HTTPXRequest):
    """The request object PTB uses for getUpdates (and only for it)."""

    def __init__(self, processor: ChatOrderedProcessor) -> None:
        super().__init__(connection_pool_size=1)  # what PTB builds for getUpdates by default
        self._processor = processor

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        room = await self._processor.room()
        if request_data is not None:
            request_data = _Limited(request_data, room)  # type: ignore[assignment]
        code, body = await super().do_request(url, method, request_data, **timeouts)
        if code == 200:
            with contextlib.suppress(ValueError, AttributeError, TypeError):  # PTB reports it
                self._processor.took(len(json.loads(body).get("result") or []))
        return code, body
