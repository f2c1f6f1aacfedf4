"""The bot's state in one SQLite file: feedback, questions the FAQ missed, answer counts and
(from schema 2) briefing subscriptions.

Every write commits before the bot acknowledges anything, and WAL keeps readers off the
writer's back, so a kill loses nothing that a user saw confirmed. Questions are stored
without who asked them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.storage.base import StoreError
from bot.storage.sql import SQLStore, migrations

MIGRATIONS = migrations(identity="INTEGER PRIMARY KEY", real="REAL", chat_id="INTEGER")


class SQLiteStore(SQLStore):
    """The embedded default: one file under BOT_DATA_DIR, nothing to install or run."""

    migrations = MIGRATIONS

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        self.path = path
        self.description = f"SQLite {path}"
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):  # "File exists" said nothing
                    raise StoreError(
                        f"cannot use the SQLite file {path}: {path.parent} is not a folder"
                    ) from None
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"cannot use the SQLite file {path}: {reason}") from None

    @property
    def version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._lock:
            for version, script in list(self._pending(self.version)):
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
