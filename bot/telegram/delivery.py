"""Getting every message out within Telegram's limits.

AIORateLimiter already keeps the overall (30/s) and per-group (20/min) limits and waits out a
429. On top: one message a second per private chat, and a few retries with backoff when the
API answers 5xx or the network drops, so a passing fault does not cost a user an answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
_SENDS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})


class DeliveryLimiter(AIORateLimiter):
    def __init__(self, *, network_retries: int = 4, backoff: float = 0.5, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 5)
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._backoff = backoff
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chat_limiters) > 4096:
            self._chat_limiters.clear()
        return self._chat_limiters.setdefault(chat_id, AsyncLimiter(1, 1))

    async def process_request(  # type: ignore[override]
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        for attempt in range(self._network_retries + 1):
            try:
                if endpoint in _SENDS and isinstance(chat_id, int) and chat_id > 0:
                    async with self._chat_limiter(chat_id):
                        return await super().process_request(
                            callback, args, kwargs, endpoint, data, rate_limit_args
                        )
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, exc, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
