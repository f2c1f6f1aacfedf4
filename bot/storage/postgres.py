"""The bot's state in PostgreSQL, for platforms whose local disk is wiped at every restart and
deploy (Heroku-style): chosen when DATABASE_URL is set. Same tables and queries as SQLite
(bot.storage.sql) in PostgreSQL's types, versioned in a one-row `schema_version` table.

psycopg 3 is imported only here, so a bot on SQLite never loads it. Each write runs in its
own transaction, committed before the call returns; a connection the server dropped (a
restart, a failover) is replaced before it is used."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bot.storage import pgurl
from bot.storage.base import StoreError
from bot.storage.sql import SQLStore, migrations

MIGRATIONS = migrations(
    identity="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    real="DOUBLE PRECISION",
    chat_id="BIGINT",  # supergroup and channel ids need 64 bits; SQLite's INTEGER has them
)

STATEMENT_TIMEOUT_MS = 5000  # no query of ours takes a tenth of that
LOCK_TIMEOUT_MS = 3000  # a table locked by another session: give up, say "try again"
MIGRATION_LOCK = 0x6E6B626F74  # pg_advisory_xact_lock key: two bots starting at once migrate once


def one_line(exc: BaseException) -> str:
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


class _Qmark:
    """The shared queries' `?` placeholders as psycopg's `%s`, on one connection."""

    def __init__(self, db: psycopg.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Any = ()) -> psycopg.Cursor:
        return self._db.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Any) -> psycopg.Cursor:
        cursor = self._db.cursor()
        cursor.executemany(sql.replace("?", "%s"), params)
        return cursor


class PostgresStore(SQLStore):
    """DATABASE_URL's database; the tables are created (and upgraded) at the first start."""

    migrations = MIGRATIONS

    def __init__(self, url: str, connect_timeout: float = 10) -> None:
        try:
            self._target = pgurl.parse(url)
        except pgurl.BadDatabaseUrl as exc:
            raise StoreError(f"DATABASE_URL: {exc}") from None
        self._timeout = connect_timeout
        self.description = f"PostgreSQL {self._target.where()}"
        self._lock = threading.Lock()
        try:
            self._db = self._connect()
            self._migrate()
        except psycopg.Error as exc:
            raise StoreError(f"cannot use {self.description}: {one_line(exc)}") from None

    def _connect(self) -> psycopg.Connection:
        """With limits, so that a server that stalls or vanishes costs seconds, not forever:
        connect_timeout, statement_timeout and lock_timeout (the server gives up a query held
        by a lock or a slow plan), and TCP keepalives (a peer gone without a word is noticed
        in about a minute)."""
        return psycopg.connect(
            self._target.url,
            autocommit=True,
            connect_timeout=max(1, round(self._timeout)),
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
            f" -c lock_timeout={LOCK_TIMEOUT_MS}",
        )

    def _conn(self) -> psycopg.Connection:
        """The connection, replaced first if the server dropped it (a restart, a failover):
        one round trip tells, so the call that finds it gone still succeeds."""
        if not (self._db.closed or self._db.broken):
            try:
                self._db.execute("SELECT 1")
                return self._db
            except psycopg.OperationalError:
                self._db.close()
        self._db = self._connect()
        return self._db

    @property
    def version(self) -> int:
        with self._lock:
            row = self._conn().execute("SELECT version FROM schema_version").fetchone()
        return row[0] if row else 0

    def _migrate(self) -> None:
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                self._db.execute("INSERT INTO schema_version (version) VALUES (0)")
            for version, script in self._pending(row[0] if row else 0):
                self._db.execute(script)
                self._db.execute("UPDATE schema_version SET version = %s", (version,))

    @contextmanager
    def _tx(self) -> Iterator[_Qmark]:
        with self._lock:
            db = self._conn()
            with db.transaction():
                yield _Qmark(db)

    def _all(self, sql: str, *args: object) -> list[tuple]:
        with self._lock:
            return _Qmark(self._conn()).execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
