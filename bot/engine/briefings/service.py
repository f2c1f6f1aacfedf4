"""The briefing service as the Telegram glue and the command line use it: facts from whatever
knowledge is current, rotation and subscriptions in the store."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfoNotFoundError

from bot.engine.briefings.facts import Pick, Rotation, TopicMatch, find_topic, pick
from bot.engine.briefings.schedule import Schedule, due_at
from bot.engine.knowledge import Knowledge
from bot.storage import Store, Subscription

log = logging.getLogger(__name__)


# -- the service as the glue and the CLI use it ---------------------------------------------------
@dataclass(frozen=True)
class Due:
    subscription: Subscription
    occurrence: dt.datetime


class Briefings:
    """Briefings for chats: their rotation and subscriptions in the store, the facts from
    whatever knowledge is current (a reload between two briefings is picked up)."""

    def __init__(self, knowledge: Callable[[], Knowledge], store: Store) -> None:
        self._knowledge = knowledge
        self.store = store

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge()

    def find_topic(self, query: str) -> TopicMatch:
        return find_topic(self.knowledge, query)

    def next_for(self, chat_id: int, topic_id: str | None = None) -> Pick:
        seen, cursor = self.store.rotation(chat_id)
        return pick(self.knowledge, Rotation(seen, cursor), topic_id)

    def shown(self, chat_id: int, chosen: Pick) -> None:
        """Record that the chat has seen this briefing: call it after the send succeeded."""
        self.store.save_rotation(chat_id, chosen.rotation.seen, chosen.rotation.cursor)

    def subscribe(
        self, chat_id: int, topic_id: str | None, schedule: Schedule, now: float | None = None
    ) -> Subscription:
        return self.store.subscribe(chat_id, topic_id, schedule.spec, schedule.timezone, now)

    def due(self, now: float | None = None) -> list[Due]:
        moment = dt.datetime.fromtimestamp(now or time.time(), dt.UTC)
        found = []
        for subscription in self.store.subscriptions():
            try:
                occurrence = due_at(subscription, moment)
            except (ValueError, ZoneInfoNotFoundError) as exc:  # one bad row must not stop all
                log.error("subscription of chat %s is unreadable: %s", subscription.chat_id, exc)
                continue
            if occurrence is not None:
                found.append(Due(subscription, occurrence))
        return found

    def describe(self, subscription: Subscription) -> str:
        """'Political prison camps, every day at 09:00 (UTC)', in plain text."""
        topic = self.knowledge.topics.get(subscription.topic or "")
        what = topic.title if topic else "all topics in rotation"
        schedule = Schedule.from_spec(subscription.schedule, subscription.timezone)
        return f"{what}, {schedule.describe()}"

    @staticmethod
    def next_time(subscription: Subscription, now: float | None = None) -> dt.datetime:
        schedule = Schedule.from_spec(subscription.schedule, subscription.timezone)
        return schedule.following(dt.datetime.fromtimestamp(now or time.time(), dt.UTC))
