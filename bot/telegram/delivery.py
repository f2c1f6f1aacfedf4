"""Getting every message out within Telegram's limits, without one chat waiting for another.

Telegram allows about 30 messages a second overall, 20 a minute in a group, and about one a
second in a chat on average, with short bursts. PTB's AIORateLimiter uses leaky buckets, which
after an idle spell let a second's worth through at once on top of the steady rate (59 sends in
one sliding second, 40 in a group's minute), and it stops every chat for a 429 that concerned
one. Here the overall and group limits hold over any sliding window, each chat has a small
burst and then one a second, and a 429 holds only the chat it was about.

A send that may have reached Telegram is never repeated: a timeout or a dropped connection
after the request went out could mean the user already has the message. Only errors that prove
nothing was carried out (no connection, a 5xx answer) and failed reads are retried."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

_PACED = ("send", "edit", "copy", "forward")  # what Telegram counts as a message to a chat
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAX_CHATS = 4096


class SlidingWindow:
    """At most `limit` sends in any `period` seconds, bursts included.

    A send counts from the moment it starts until `period` after Telegram answered it: Telegram
    counted it at some moment in between, and only the answer bounds when."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self._answered: deque[float] = deque()
        self._open = 0

    def wait(self, now: float) -> float:
        """Seconds until a send may start (0: now)."""
        while self._answered and self._answered[0] <= now - self.period:
            self._answered.popleft()
        if self._open + len(self._answered) < self.limit:
            return 0.0
        return self._answered[0] + self.period - now if self._answered else 0.05

    def start(self) -> None:
        self._open += 1

    def finish(self) -> None:
        self._open -= 1
        self._answered.append(time.monotonic())

    def idle(self, now: float) -> bool:
        return self._open == 0 and self.wait(now) == 0 and not self._answered


class Burst:
    """A chat's pace: `burst` messages at once, then `rate` a second on average."""

    def __init__(self, burst: float, rate: float) -> None:
        self.burst, self.rate = burst, rate
        self._tokens, self._at = burst, time.monotonic()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def start(self) -> None:
        self._tokens -= 1

    def finish(self) -> None:
        pass

    def idle(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self.burst


class DeliveryLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        overall: tuple[int, float] = (30, 1.0),
        group: tuple[int, float] = (20, 60.0),
        chat_burst: int = 3,
        chat_rate: float = 1.0,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self._overall = SlidingWindow(*overall)
        self._overall_turn = asyncio.Lock()  # first come, first served for the shared limit
        self._group_limit = group
        self._chat_pace = (chat_burst, chat_rate)
        self._chats: dict[int | str, list[SlidingWindow | Burst]] = {}
        self._held: dict[int | str | None, float] = {}
        self._max_retries = max_retries
        self._network_retries = network_retries
        self._backoff = backoff

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _limits(self, chat_id: int | str) -> list[SlidingWindow | Burst]:
        limits = self._chats.get(chat_id)
        if limits is None:
            if len(self._chats) > _MAX_CHATS:  # forget chats with nothing left to pace
                now = time.monotonic()
                for key in [k for k, v in self._chats.items() if all(x.idle(now) for x in v)]:
                    del self._chats[key]
            limits = [Burst(*self._chat_pace)]
            if isinstance(chat_id, str) or chat_id < 0:  # groups and channels
                limits.append(SlidingWindow(*self._group_limit))
            self._chats[chat_id] = limits
        return limits

    async def _wait_for(self, limits: list[SlidingWindow | Burst]) -> None:
        while delay := max(limit.wait(time.monotonic()) for limit in limits):
            await asyncio.sleep(delay)
        for limit in limits:
            limit.start()

    async def _wait_out_hold(self, key: int | str | None) -> None:
        while (until := self._held.get(key, 0.0)) > time.monotonic():
            await asyncio.sleep(until - time.monotonic())
        self._held.pop(key, None)

    async def process_request(  # type: ignore[override]
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = _chat_key(data.get("chat_id"))
        paced = (
            chat_id is not None and endpoint.startswith(_PACED) and endpoint != ("sendChatAction")
        )
        network_failures = 0
        for attempt in range(self._max_retries + 1):
            await self._wait_out_hold(chat_id)
            held: list[SlidingWindow | Burst] = []
            if paced:
                held = self._limits(chat_id)
                await self._wait_for(held)  # this chat's own pace: nobody else waits for it
                async with self._overall_turn:
                    await self._wait_for([self._overall])
                held = [*held, self._overall]
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = exc._retry_after.total_seconds() + 0.1
                if attempt == self._max_retries:
                    log.warning("%s to chat %s: still rate limited, giving up", endpoint, chat_id)
                    raise
                log.info("%s to chat %s: rate limited, retry in %.1fs", endpoint, chat_id, seconds)
                if chat_id is None:
                    await asyncio.sleep(seconds)
                else:  # the chat's next messages wait too, and no other chat does
                    until = time.monotonic() + seconds
                    self._held[chat_id] = max(self._held.get(chat_id, 0.0), until)
            except BadRequest:
                raise
            except NetworkError as exc:
                network_failures += 1
                if network_failures > self._network_retries or not (
                    endpoint.startswith("get") or _not_carried_out(exc)
                ):
                    raise
                delay = self._backoff * 2 ** (network_failures - 1)
                log.warning("%s failed (%s); retry in %.1fs", endpoint, exc, delay)
                await asyncio.sleep(delay)
            finally:
                for limit in held:
                    limit.finish()
        raise AssertionError("unreachable")


def _chat_key(chat_id: object) -> int | str | None:
    if chat_id is None:
        return None
    try:
        return int(chat_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(chat_id)  # @channelusername


def _not_carried_out(exc: NetworkError) -> bool:
    """True when the error proves Telegram did not act on the request: no connection was made,
    or Telegram answered with a server error. A timeout or a connection dropped while waiting
    for the answer proves nothing, so the request is not repeated."""
    cause = exc.__cause__
    if isinstance(cause, _UNSENT):
        return True
    # An HTTP answer: no cause, or the unreadable body of a gateway's error page.
    return not isinstance(exc, TimedOut) and (cause is None or isinstance(cause, TelegramError))
