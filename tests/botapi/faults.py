"""Fault injection: errors on demand (429, 403, 5xx, migrations, blocked chats) and Telegram's
own rate limits, so tests can prove the bot survives what Telegram does on a bad day."""

from __future__ import annotations

import math
import time

from botapi.validation import DEFAULT_ERRORS, ERROR_PREFIX, SEND_PREFIXES, ApiError, status_phrase


class Faults:
    """Mixed into FakeBotAPI: what can go wrong, and when."""

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, method, status, description=None, retry_after=None, count=1,
                  chat_id=None):
        """Make the next ``count`` calls of ``method`` ("*" = any) fail like Telegram would."""
        with self._cond:
            self._faults.append({"method": "*" if method == "*" else self._canon(method),
                                 "status": status, "description": description,
                                 "retry_after": retry_after, "left": count, "chat_id": chat_id})

    def slow_next(self, method, seconds, count=1, chat_id=None):
        """Carry out the next ``count`` calls of ``method`` at once but answer only ``seconds``
        later, as Telegram does on a bad day: the message is delivered, the bot hears late."""
        with self._cond:
            self._slow.append({"method": self._canon(method), "seconds": seconds,
                               "left": count, "chat_id": chat_id})

    def _answer_delay(self, method, params):
        """Seconds to hold back the answer to a call that was carried out (0: none)."""
        for rule in self._slow:
            if rule["method"] == method and rule["chat_id"] in (None, params.get("chat_id")):
                rule["left"] -= 1
                self._slow = [r for r in self._slow if r["left"] > 0]
                return rule["seconds"]
        return 0

    def slow_down(self, method, seconds):
        """Answer every call of ``method`` only after ``seconds`` (0 restores it): a Bot API
        that is up but too slow, as Telegram is on a bad day."""
        with self._cond:
            self._delays[self._canon(method)] = seconds

    def _delay(self, method):
        with self._cond:
            seconds = self._delays.get(method, 0)
        if seconds:
            time.sleep(seconds)  # outside the lock: other calls are answered meanwhile

    def block_chat(self, chat_id, description=None):
        """Every send to ``chat_id`` answers 403 until ``unblock_chat``."""
        with self._cond:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id):
        with self._cond:
            self._blocked.pop(chat_id, None)

    def migrate_chat(self, old_chat_id, new_chat_id):
        """Sends to the old group answer 400 with parameters.migrate_to_chat_id (ChatMigrated)."""
        with self._cond:
            self._migrated[old_chat_id] = new_chat_id

    def rate_limit(self, per_chat_per_second=1, per_group_per_minute=20, global_per_second=30):
        """Answer 429 when Telegram's documented send limits are exceeded (None disables one),
        strictly: over any sliding window (a second, a group's minute), bursts included."""
        with self._cond:
            self._limits = (per_chat_per_second, per_group_per_minute, global_per_second)
            self._send_log.clear()

    def clear_faults(self):
        """Drop pending fail_next/slow_next rules, blocks, migrations, rate limits, slow methods."""
        with self._cond:
            self._faults, self._blocked, self._migrated, self._limits = [], {}, {}, None
            self._slow, self._delays = [], {}

    def _forbidden(self, chat_id):
        kind = self._chats.get(chat_id, {}).get("type") or (
            "channel" if not isinstance(chat_id, int) else
            "private" if chat_id > 0 else "supergroup")
        return {"private": "Forbidden: bot was blocked by the user",
                "group": "Forbidden: bot was kicked from the group chat",
                "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                "channel": "Forbidden: bot is not a member of the channel chat"}[kind]

    def _make_error(self, status, description, retry_after, chat_id):
        if status == 429:
            n = int(retry_after or 1)
            return ApiError(429, description or f"Too Many Requests: retry after {n}",
                            {"retry_after": n})
        if not description:
            description = (self._forbidden(chat_id) if status == 403
                           else DEFAULT_ERRORS.get(status) or status_phrase(status))
        prefix = ERROR_PREFIX.get(status)
        if prefix and not description.startswith(prefix.rstrip(": ")):
            description = prefix + description
        return ApiError(status, description)

    def _apply_faults(self, method, params):
        chat_id = params.get("chat_id")
        for rule in self._faults:
            if rule["method"] in ("*", method) and rule["chat_id"] in (None, chat_id):
                rule["left"] -= 1
                self._faults = [r for r in self._faults if r["left"] > 0]
                raise self._make_error(rule["status"], rule["description"],
                                       rule["retry_after"], chat_id)
        if chat_id is None or not method.lower().startswith(SEND_PREFIXES):
            return
        if chat_id in self._migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id] or self._forbidden(chat_id))
        if self._limits and method != "sendChatAction":
            self._check_rate(chat_id)

    def _check_rate(self, chat_id):
        """Sliding windows over recent sends; retry_after = time until a slot frees up."""
        now, (per_chat, per_group, overall) = time.monotonic(), self._limits
        while self._send_log and now - self._send_log[0][0] > 60:
            self._send_log.popleft()
        checks = [(per_chat, 1.0, lambda c: c == chat_id), (overall, 1.0, lambda c: True)]
        if isinstance(chat_id, int) and chat_id < 0:
            checks.append((per_group, 60.0, lambda c: c == chat_id))
        for limit, window, match in checks:
            recent = [t for t, c in self._send_log if now - t < window and match(c)]
            if limit is not None and len(recent) >= limit:
                wait = max(1, math.ceil(recent[0] + window - now))
                raise self._make_error(429, None, wait, chat_id)
        self._send_log.append((now, chat_id))
