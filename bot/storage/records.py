"""What the store keeps, as plain values: a missed question and a briefing subscription.
Shared by every backend so that callers never see a database row."""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import fold


def question_key(text: str) -> str:
    """Questions that differ only in case, spacing or punctuation are counted together."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(text).casefold()).split())


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
