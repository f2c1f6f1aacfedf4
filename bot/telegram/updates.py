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
there is room for; the rest wait at Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import HTTPXRequest, RequestData

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


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(
        self, *, running: int = 64, backlog: int = 32, queued: int = 8192, grace: float = 3.0
    ) -> None:
        super().__init__(queued)  # PTB's own cap: updates held in memory at all
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

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        """An update whose turn has come: it counts as in hand until it is done."""
        self._settle(heads=1)
        try:
            async with self._running:
                await self._handle(coroutine)
        finally:
            self._settle(heads=-1)

    async def _handle(self, coroutine: Awaitable[Any]) -> None:
        if self._dropping:
            self._dropped += 1
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        handling = asyncio.ensure_future(coroutine)
        self._handling.add(handling)
        try:
            await handling
        except asyncio.CancelledError:
            if not (self._dropping and handling.cancelled()):
                raise
            self._dropped += 1
        finally:
            self._handling.discard(handling)

    def took(self, count: int) -> None:
        self._taken += count

    @property
    def in_hand(self) -> int:
        """Updates taken from Telegram that would be lost now (queued behind their chat aside)."""
        return self._taken + self._heads

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
        key = chat_key(update)
        if key is None:
            await self._run(coroutine)
            return
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with turn:  # asyncio.Lock wakes waiters first come, first served
                await self._run(coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._turns[key]


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
