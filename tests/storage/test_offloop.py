"""The store as the running bot uses it (bot.storage.offloop), on a real SQLite file locked by
another process's transaction: recording never waits, a vote waits a bounded time and is told
to try again, the outage is one log line and one when it is back, and nothing recorded
meanwhile is lost."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot.storage import SQLiteStore
from bot.storage.offloop import OFF_LOOP, OffLoopStore, StoreBusy


@pytest.fixture
def wrapped(tmp_path: Path):
    store = OffLoopStore(SQLiteStore(tmp_path / "bot.sqlite3"), retry=0.2)
    yield store, tmp_path / "bot.sqlite3"
    store.close()


def test_a_locked_store_delays_no_record_and_loses_none(wrapped, caplog) -> None:
    store, path = wrapped
    caplog.set_level(logging.INFO, logger="bot.storage.offloop")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        for _ in range(20):
            store.record_answer("camps-how-many")
            store.record_miss("what is the capital of peru", "declined", None, None)
        assert time.monotonic() - started < 0.05  # queued, not written
        with pytest.raises(StoreBusy):
            store.record_vote("camps-how-many", 1, "voter")
        assert OFF_LOOP - 0.5 < time.monotonic() - started < OFF_LOOP + 1.5
        time.sleep(6)  # past SQLite's own 5 s wait: the writer finds it locked, and retries
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert store.flush(15)
    assert store.answer_counts() == {"camps-how-many": 20}
    assert store.misses()[0].count == 20
    messages = [r.getMessage() for r in caplog.records]
    assert sum("store unavailable" in m for m in messages) == 1, messages
    assert sum("store is back" in m for m in messages) == 1, messages
    assert not [r for r in caplog.records if r.exc_info]


def test_the_most_asked_list_is_served_from_memory(wrapped) -> None:
    store, path = wrapped
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        assert store.most_asked(5) == []
        assert time.monotonic() - started < 0.05
    finally:
        locker.execute("ROLLBACK")
        locker.close()
