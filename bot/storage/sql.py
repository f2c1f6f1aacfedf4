"""The queries both backends share: one dialect of SQL that SQLite and PostgreSQL both speak,
written with `?` placeholders (the PostgreSQL backend turns them into psycopg's `%s`).

A backend supplies the connection: `_tx()`, a transaction committed before it returns (so a
kill loses nothing a user saw confirmed), `_all()` for reads, its migrations and `close()`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from bot.storage.base import Store, StoreError
from bot.storage.records import Miss, Subscription, question_key

# The tables, one migration per schema version, with each backend's column types filled in:
# {identity} a row id, {real} a timestamp or score, {chat_id} a Telegram chat id (64 bits).
SCHEMA: list[str] = [
    # 1: feedback and the maintainers' view of what users asked
    """
    CREATE TABLE votes (
        id {identity},
        entry_id TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at {real} NOT NULL
    );
    CREATE INDEX votes_entry ON votes (entry_id);
    CREATE TABLE questions (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        status TEXT NOT NULL,
        best_entry TEXT,
        best_score {real},
        count INTEGER NOT NULL DEFAULT 1,
        first_seen {real} NOT NULL,
        last_seen {real} NOT NULL
    );
    CREATE TABLE answers (
        entry_id TEXT PRIMARY KEY,
        count INTEGER NOT NULL DEFAULT 0,
        last_seen {real} NOT NULL
    );
    """,
    # 2: briefings (chat ids of supergroups and channels need 64 bits)
    """
    CREATE TABLE subscriptions (
        chat_id {chat_id} PRIMARY KEY,
        topic TEXT,
        schedule TEXT NOT NULL,
        timezone TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        last_sent {real},
        created_at {real} NOT NULL
    );
    CREATE TABLE rotation (
        chat_id {chat_id} NOT NULL,
        fact TEXT NOT NULL,
        PRIMARY KEY (chat_id, fact)
    );
    CREATE TABLE topic_cursor (
        chat_id {chat_id} PRIMARY KEY,
        position INTEGER NOT NULL
    );
    """,
    # 3: one vote per voter and entry. `voter` is a keyed hash of the Telegram user id (see
    # records.voter_hash), never the id; votes from before it have none and stay as they are.
    """
    ALTER TABLE votes ADD COLUMN voter TEXT;
    CREATE UNIQUE INDEX votes_voter ON votes (voter, entry_id);
    """,
    # 4: updates already handled, so that one Telegram delivers again after a kill (it confirms
    # a batch only on the next poll) is not answered twice; the last day's, at most HANDLED_KEEP
    """
    CREATE TABLE handled_updates (
        update_id {chat_id} PRIMARY KEY,
        handled_at {real} NOT NULL
    );
    CREATE INDEX handled_updates_at ON handled_updates (handled_at);
    """,
]

# Which handled update ids are remembered: Telegram redelivers at most the last batch (100), within
# seconds of a restart, and after a week without updates it may start numbering them afresh.
HANDLED_KEEP_SECONDS = 86400.0
HANDLED_KEEP = 20_000  # ids: a bound on the table however busy the bot is


def migrations(**types: str) -> list[str]:
    return [script.format(**types) for script in SCHEMA]


# What `migrate-store` copies: every table's columns but the votes' row ids.
COLUMNS = {
    "votes": ("entry_id", "vote", "created_at", "voter"),
    "questions": (
        "key", "text", "status", "best_entry", "best_score", "count", "first_seen", "last_seen"
    ),
    "answers": ("entry_id", "count", "last_seen"),
    "subscriptions": (
        "chat_id", "topic", "schedule", "timezone", "paused", "last_sent", "created_at"
    ),
    "rotation": ("chat_id", "fact"),
    "topic_cursor": ("chat_id", "position"),
}  # fmt: skip


class Cursor(Protocol):
    rowcount: int


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Cursor: ...
    def executemany(self, sql: str, params: Any) -> Cursor: ...


class SQLStore:
    """Everything but the connection. `description` says where the state lives, for the
    start-up line, without any password."""

    description: str
    migrations: list[str]

    def _tx(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _all(self, sql: str, *args: object) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def table_rows(self, table: str) -> list[tuple]:
        """Every row of one of COLUMNS's tables, in a stable order."""
        columns = COLUMNS[table]
        order = "id" if table == "votes" else ", ".join(columns)
        return self._all(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")

    def copy_from(self, source: Store) -> dict[str, int]:
        """Copy all of another store's state into this one, which must be empty, in one
        transaction: rows per table."""
        if any(self._all(f"SELECT 1 FROM {table} LIMIT 1") for table in COLUMNS):
            raise StoreError(f"{self.description} already holds state: copy only into an empty one")
        copied = {}
        with self._tx() as db:
            for table, columns in COLUMNS.items():
                rows = source.table_rows(table)
                if rows:
                    db.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' * len(columns))})",
                        rows,
                    )
                copied[table] = len(rows)
        return copied

    def _pending(self, found: int) -> Iterator[tuple[int, str]]:
        """The migrations a database at version `found` still needs, or StoreError if it was
        written by a newer bot: its writes would fail one by one, so nothing starts."""
        known = len(self.migrations)
        if found > known:
            raise StoreError(
                f"{self.description} has schema version {found}, newer than this bot's {known}:"
                " it was written by a newer version of the bot; run that version or restore a"
                " backup from before the upgrade"
            )
        for version in range(found + 1, known + 1):
            yield version, self.migrations[version - 1]

    # -- answers, misses, votes -----------------------------------------------------------------
    def record_answer(self, entry_id: str, now: float | None = None) -> None:
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO answers (entry_id, count, last_seen) VALUES (?, 1, ?) "
                "ON CONFLICT (entry_id) DO UPDATE SET"
                " count = answers.count + 1, last_seen = excluded.last_seen",
                (entry_id, now),
            )

    def record_miss(
        self,
        text: str,
        status: str,
        best_entry: str | None,
        best_score: float | None,
        now: float | None = None,
    ) -> None:
        text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL; nobody types one
        key = question_key(text)
        if not key:
            return
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO questions"
                " (key, text, status, best_entry, best_score, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " count = questions.count + 1, last_seen = excluded.last_seen,"
                " status = excluded.status,"
                " best_entry = excluded.best_entry, best_score = excluded.best_score",
                (key, text[:500], status, best_entry, best_score, now, now),
            )

    def record_vote(
        self, entry_id: str, vote: int, voter: str | None = None, now: float | None = None
    ) -> bool:
        """One vote per voter and entry: the same vote again changes nothing (a double tap, a
        duplicate update), the other sign replaces it. True if the totals changed."""
        with self._tx() as db:
            return (
                db.execute(
                    "INSERT INTO votes (entry_id, vote, created_at, voter) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (voter, entry_id) DO UPDATE SET"
                    " vote = excluded.vote, created_at = excluded.created_at"
                    " WHERE votes.vote <> excluded.vote",
                    (entry_id, 1 if vote > 0 else -1, now or time.time(), voter),
                ).rowcount
                > 0
            )

    # -- updates already handled (schema 4) ------------------------------------------------------
    def record_handled(self, update_id: int, now: float | None = None) -> None:
        """Remember an update as handled; forget those of over a day ago, or HANDLED_KEEP ids
        before it (ids are sequential)."""
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?)"
                " ON CONFLICT (update_id) DO NOTHING",
                (update_id, now),
            )
            db.execute(
                "DELETE FROM handled_updates WHERE handled_at < ? OR update_id <= ?",
                (now - HANDLED_KEEP_SECONDS, update_id - HANDLED_KEEP),
            )

    def handled_since(self, since: float) -> list[int]:
        """The ids of updates handled since then, oldest first."""
        rows = self._all(
            "SELECT update_id FROM handled_updates WHERE handled_at >= ?"
            " ORDER BY handled_at, update_id",
            since,
        )
        return [row[0] for row in rows]

    def most_asked(self, limit: int = 10) -> list[tuple[str, int]]:
        return [
            (r[0], r[1])
            for r in self._all(
                "SELECT entry_id, count FROM answers ORDER BY count DESC, entry_id LIMIT ?", limit
            )
        ]

    def answer_counts(self) -> dict[str, int]:
        return dict(self._all("SELECT entry_id, count FROM answers"))

    def misses(self, limit: int = 1000) -> list[Miss]:
        rows = self._all(
            "SELECT text, status, best_entry, best_score, count, first_seen, last_seen "
            "FROM questions ORDER BY count DESC, last_seen DESC LIMIT ?",
            limit,
        )
        return [Miss(*row) for row in rows]

    def vote_totals(self) -> dict[str, tuple[int, int]]:
        """entry id -> (thumbs up, thumbs down)."""
        rows = self._all(
            "SELECT entry_id, SUM(CASE WHEN vote > 0 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN vote < 0 THEN 1 ELSE 0 END) FROM votes GROUP BY entry_id"
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def purge(self, older_than_days: float, now: float | None = None) -> int:
        """Retention: forget questions and votes not seen for that long."""
        cutoff = (now or time.time()) - older_than_days * 86400
        with self._tx() as db:
            gone = db.execute("DELETE FROM questions WHERE last_seen < ?", (cutoff,)).rowcount
            gone += db.execute("DELETE FROM votes WHERE created_at < ?", (cutoff,)).rowcount
        return gone

    # -- briefings: subscriptions and each chat's rotation (schema 2) ---------------------------
    _SUBSCRIPTION = "chat_id, topic, schedule, timezone, paused, last_sent, created_at"

    @staticmethod
    def _subscription(row: tuple) -> Subscription:
        return Subscription(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])

    def subscribe(
        self,
        chat_id: int,
        topic: str | None,
        schedule: str,
        timezone: str,
        now: float | None = None,
    ) -> Subscription:
        """One subscription per chat: subscribing again replaces it and resumes it."""
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO subscriptions (chat_id, topic, schedule, timezone, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " topic = excluded.topic, schedule = excluded.schedule,"
                " timezone = excluded.timezone, paused = 0, created_at = excluded.created_at",
                (chat_id, topic, schedule, timezone, now),
            )
        subscription = self.subscription(chat_id)
        assert subscription is not None
        return subscription

    def subscription(self, chat_id: int) -> Subscription | None:
        rows = self._all(
            f"SELECT {self._SUBSCRIPTION} FROM subscriptions WHERE chat_id = ?", chat_id
        )
        return self._subscription(rows[0]) if rows else None

    def subscriptions(self, *, include_paused: bool = False) -> list[Subscription]:
        where = "" if include_paused else " WHERE paused = 0"
        rows = self._all(f"SELECT {self._SUBSCRIPTION} FROM subscriptions{where} ORDER BY chat_id")
        return [self._subscription(row) for row in rows]

    def unsubscribe(self, chat_id: int) -> bool:
        with self._tx() as db:
            return (
                db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount > 0
            )

    def set_paused(self, chat_id: int, paused: bool, now: float | None = None) -> bool:
        """Pause, or resume from now on (what was missed meanwhile is not sent)."""
        with self._tx() as db:
            if paused:
                cursor = db.execute(
                    "UPDATE subscriptions SET paused = 1 WHERE chat_id = ? AND paused = 0",
                    (chat_id,),
                )
            else:
                cursor = db.execute(
                    "UPDATE subscriptions SET paused = 0, created_at = ?"
                    " WHERE chat_id = ? AND paused = 1",
                    (now or time.time(), chat_id),
                )
            return cursor.rowcount > 0

    def claim_briefing(self, chat_id: int, previous: float | None, sent_at: float) -> bool:
        """Mark a briefing sent before sending it, if nobody else has since: a crash or a
        second process can then lose a briefing but never send one twice."""
        same = "last_sent IS NULL" if previous is None else "last_sent = ?"
        with self._tx() as db:
            cursor = db.execute(
                f"UPDATE subscriptions SET last_sent = ? WHERE chat_id = ? AND {same}"
                " AND paused = 0",
                (sent_at, chat_id) if previous is None else (sent_at, chat_id, previous),
            )
            return cursor.rowcount > 0

    def move_chat(self, old: int, new: int) -> bool:
        """A group became a supergroup: its subscription and rotation follow it. Anything the
        new id already has wins. True if a subscription moved."""
        with self._tx() as db:
            moved = 0
            for table, key in (
                ("subscriptions", ""),
                ("rotation", " AND taken.fact = rotation.fact"),
                ("topic_cursor", ""),
            ):
                cursor = db.execute(  # rows the new id already has are kept, not overwritten
                    f"UPDATE {table} SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS"
                    f" (SELECT 1 FROM {table} AS taken WHERE taken.chat_id = ?{key})",
                    (new, old, new),
                )
                moved += cursor.rowcount if table == "subscriptions" else 0
                db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (old,))
        return moved > 0

    def rotation(self, chat_id: int) -> tuple[frozenset[str], int]:
        """The facts this chat has seen in the current round, and its next topic position."""
        seen = frozenset(
            r[0] for r in self._all("SELECT fact FROM rotation WHERE chat_id = ?", chat_id)
        )
        cursor = self._all("SELECT position FROM topic_cursor WHERE chat_id = ?", chat_id)
        return seen, cursor[0][0] if cursor else 0

    def save_rotation(self, chat_id: int, seen: frozenset[str], cursor: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM rotation WHERE chat_id = ?", (chat_id,))
            db.executemany(
                "INSERT INTO rotation (chat_id, fact) VALUES (?, ?)",
                [(chat_id, fact) for fact in sorted(seen)],
            )
            db.execute(
                "INSERT INTO topic_cursor (chat_id, position) VALUES (?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET position = excluded.position",
                (chat_id, cursor),
            )
