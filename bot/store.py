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
from dataclasses import dataclass
from pathlib import Path

from bot.text import fold

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


class Store:
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
