"""Storage: the bot's state behind one interface (base.Store), with two backends: SQLite (the
embedded default) and PostgreSQL (when DATABASE_URL is set). Imports nothing of the bot above
it but the leaf bot.text."""

from __future__ import annotations

from pathlib import Path

from bot.storage.base import Store, StoreError
from bot.storage.records import Miss, Subscription, question_key, voter_hash
from bot.storage.sql import COLUMNS, HANDLED_KEEP, HANDLED_KEEP_SECONDS
from bot.storage.sqlite import SQLiteStore

__all__ = [
    "COLUMNS",
    "HANDLED_KEEP",
    "HANDLED_KEEP_SECONDS",
    "Miss",
    "SQLiteStore",
    "Store",
    "StoreError",
    "Subscription",
    "open_store",
    "question_key",
    "voter_hash",
]

SQLITE_FILE = "bot.sqlite3"


def open_store(url: str | None = None, data_dir: Path | None = None) -> Store:
    """PostgreSQL for a postgres:// or postgresql:// URL; otherwise SQLite, at a sqlite:///PATH
    URL (four slashes for an absolute path) or at data_dir/bot.sqlite3. StoreError when the
    state cannot be opened."""
    if url and url.startswith(("postgres://", "postgresql://")):
        from bot.storage.postgres import PostgresStore  # psycopg loads only when used

        return PostgresStore(url)
    if url and url.startswith("sqlite:///"):
        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url:
        raise StoreError("not a storage URL: use sqlite:///PATH or postgresql://…")
    return SQLiteStore((data_dir or Path("data")) / SQLITE_FILE)
