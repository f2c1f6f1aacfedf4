"""What the store keeps, as plain values: a missed question and a briefing subscription.
Shared by every backend so that callers never see a database row."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from bot.text import fold


def question_key(text: str) -> str:
    """Questions that differ only in case, spacing or punctuation are counted together."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(text).casefold()).split())


def voter_hash(key: str, user_id: int) -> str:
    """Who voted, as the store keeps it: enough to count one vote per user and answer, never
    the Telegram id. Keyed (HMAC) because ids are few enough to hash them all: without the
    key (the bot token, which the store never holds) a copy of the store cannot tell whose
    vote a row is."""
    derived = hashlib.sha256(b"nkbot voter key\x00" + key.encode()).digest()
    return hmac.new(derived, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Miss:
    text: str
    status: str
    best_entry: str | None
    best_score: float | None
    count: int
    first_seen: float
    last_seen: float


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    topic: str | None
    schedule: str
    timezone: str
    paused: bool
    last_sent: float | None
    created_at: float = 0.0  # when it (re)started: occurrences before it are never sent
