"""The bot's state in one SQLite file: feedback, questions the FAQ missed, answer counts and
(from schema 2) briefing subscriptions.

Every write commits before the bot acknowledges anything, and WAL keeps readers off the
writer's back, so a kill loses nothing that a user saw confirmed. Questions are stored
without who asked them."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.storage.records import Miss, Subscription, question_key

MIGRATIONS: list[str] = [
    # 1: feedback and the maintainers' view of what users asked
    """
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at REAL NOT NULL
    );
    CREATE INDEX votes_entry ON votes (entry_id);
    CREATE TABLE questions (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        status TEXT NOT NULL,
        best_entry TEXT,
        best_score REAL,
        count INTEGER NOT NULL DEFAULT 1,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE TABLE answers (
        entry_id TEXT PRIMARY KEY,
        count INTEGER NOT NULL DEFAULT 0,
        last_seen REAL NOT NULL
    );
    """,
    # 2: briefings
    """
    CREATE TABLE subscriptions (
        chat_id INTEGER PRIMARY KEY,
        topic TEXT,
        schedule TEXT NOT NULL,
        timezone TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        last_sent REAL,
        created_at REAL NOT NULL
    );
    CREATE TABLE rotation (
        chat_id INTEGER NOT NULL,
        fact TEXT NOT NULL,
        PRIMARY KEY (chat_id, fact)
    );
    CREATE TABLE topic_cursor (
        chat_id INTEGER PRIMARY KEY,
        position INTEGER NOT NULL
    );
    """,
]


class SQLiteStore:
    """The embedded default: one file under BOT_DATA_DIR, nothing to install or run."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    @property
    def version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._lock:
            for version, script in enumerate(MIGRATIONS, 1):
                if self.version < version:
                    self._db.executescript(
                        f"BEGIN; {script}; PRAGMA user_version = {version}; COMMIT;"
                    )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, *args: object) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- answers, misses, votes -----------------------------------------------------------------
    def record_answer(self, entry_id: str, now: float | None = None) -> None:
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO answers (entry_id, count, last_seen) VALUES (?, 1, ?) "
                "ON CONFLICT (entry_id) DO UPDATE SET"
                " count = count + 1, last_seen = excluded.last_seen",
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
        key = question_key(text)
        if not key:
            return
        now = now or time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO questions"
                " (key, text, status, best_entry, best_score, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " count = count + 1, last_seen = excluded.last_seen, status = excluded.status,"
                " best_entry = excluded.best_entry, best_score = excluded.best_score",
                (key, text[:500], status, best_entry, best_score, now, now),
            )

    def record_vote(self, entry_id: str, vote: int, now: float | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO votes (entry_id, vote, created_at) VALUES (?, ?, ?)",
                (entry_id, 1 if vote > 0 else -1, now or time.time()),
            )

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
            "SELECT entry_id, SUM(vote > 0), SUM(vote < 0) FROM votes GROUP BY entry_id"
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
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE subscriptions SET last_sent = ?"
                " WHERE chat_id = ? AND last_sent IS ? AND paused = 0",
                (sent_at, chat_id, previous),
            )
            return cursor.rowcount > 0

    def move_chat(self, old: int, new: int) -> bool:
        """A group became a supergroup: its subscription and rotation follow it. Anything the
        new id already has wins. True if a subscription moved."""
        with self._tx() as db:
            moved = 0
            for table in ("subscriptions", "rotation", "topic_cursor"):
                cursor = db.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?", (new, old)
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
