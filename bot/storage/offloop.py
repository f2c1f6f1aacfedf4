"""The store as the running bot uses it: a question's answer never waits for the database.

Every store call used to run on the event loop, so a PostgreSQL stalled for 10 s (a stopped
backend, a table locked by another session) froze every chat for 10 s. Here:

- what is only recorded (answer counts, missed questions, handled update ids) is queued and
  written by one thread, retried while the store is down, at most QUEUE_LIMIT kept;
- the most-asked list (inline mode's suggestions) is served from memory, refreshed by that
  thread;
- any other call (a vote, a subscription, a briefing's claim) waits for the store a bounded
  time: ON_LOOP seconds when made on the event loop, OFF_LOOP seconds from a thread (the bot
  makes votes there, so they may wait), then StoreBusy ("try again"). A call that timed out
  may still complete once the store answers: votes and subscriptions are idempotent, and a
  claimed briefing that was never sent is lost, never sent twice.

Faults are logged once per outage ("store unavailable: …") and once when it is back, with
how many records were dropped meanwhile, never a traceback per failed write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.storage.base import Store, StoreError

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000  # records waiting for a store that is down; the oldest are kept
ON_LOOP = 0.1  # seconds a call made on the event loop may hold it
OFF_LOOP = 4.0  # seconds a vote or subscription (made in a thread) may wait
SLOW = 1.0  # a write slower than this is reported (once per minute at most)
RECORDS = ("record_answer", "record_miss", "record_handled")
MOST_ASKED_EVERY = 30.0  # seconds between refreshes of the cached most-asked list


def _transient(exc: BaseException) -> bool:
    """A fault of the store's (down, stalled, locked, a dropped connection), worth retrying;
    anything else is the record's own and would fail again."""
    kinds: list[type[BaseException]] = [sqlite3.OperationalError, OSError, StoreError]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        kinds += [psycopg.OperationalError, psycopg.InterfaceError]
    return isinstance(exc, tuple(kinds))


class _Workers:
    """A few daemon threads that run store calls: a call stuck on a stalled server must not
    keep the process from exiting (concurrent.futures joins its threads at exit)."""

    def __init__(self, count: int) -> None:
        self._jobs: queue.Queue[tuple[Future[Any], Callable[..., Any], tuple, dict]] = queue.Queue()
        for n in range(count):
            threading.Thread(target=self._work, name=f"store-{n}", daemon=True).start()

    def _work(self) -> None:
        while True:
            future, method, args, kwargs = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(method(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def submit(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, method, args, kwargs))
        return future


class StoreBusy(StoreError):
    """The store did not answer in time: the user is told to try again."""


def one_line(exc: BaseException) -> str:
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Health:
    """Whether the store is answering, said in the log once per change."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.dropped = 0
        self._slow_logged = 0.0

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning(
                    "store unavailable (%s): %s; answering goes on, records are kept in memory"
                    " and written when it is back",
                    self.description,
                    one_line(exc),
                )

    def worked(self, seconds: float) -> None:
        with self._lock:
            if self.down_since is not None:
                log.info(
                    "store is back (%s) after %.1f s%s",
                    self.description,
                    time.monotonic() - self.down_since,
                    f"; {self.dropped} record(s) dropped meanwhile" if self.dropped else "",
                )
                self.down_since = None
                self.dropped = 0
            elif seconds > SLOW and time.monotonic() - self._slow_logged > 60:
                self._slow_logged = time.monotonic()
                log.warning("store is slow (%s): a write took %.1f s", self.description, seconds)


class OffLoopStore:
    """Wraps a Store (see the module's docstring); the Store protocol, plus `flush()`."""

    def __init__(self, store: Store, *, retry: float = 1.0) -> None:
        self._store = store
        self.description = store.description
        self.health = Health(store.description)
        self._retry = retry
        self._records: queue.Queue[tuple[str, tuple, dict] | None] = queue.Queue(QUEUE_LIMIT)
        self._calls = _Workers(4)
        self._most_asked: list[tuple[str, int]] = store.most_asked(50)
        self._most_asked_at = time.monotonic()
        self._closing = False
        self._writer = threading.Thread(target=self._write, name="store-writer", daemon=True)
        self._writer.start()

    # -- records: queued, written by one thread --------------------------------------------------
    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        try:
            self._records.put_nowait((name, args, kwargs))
        except queue.Full:
            with self.health._lock:
                self.health.dropped += 1

    def record_answer(self, *args: Any, **kwargs: Any) -> None:
        self._record("record_answer", *args, **kwargs)

    def record_miss(self, *args: Any, **kwargs: Any) -> None:
        self._record("record_miss", *args, **kwargs)

    def record_handled(self, *args: Any, **kwargs: Any) -> None:
        self._record("record_handled", *args, **kwargs)

    def _write(self) -> None:
        while (item := self._records.get()) is not None:
            name, args, kwargs = item
            if name == "flushed":
                args[0].set()
                continue
            while True:
                started = time.monotonic()
                try:
                    getattr(self._store, name)(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - one line per outage, then retry
                    if not _transient(exc):  # this record's own fault: retrying cannot help
                        log.warning("store: could not record a question: %s", one_line(exc))
                        break
                    self.health.failed(exc)
                    if self._closing:
                        break
                    time.sleep(self._retry)
                    continue
                self.health.worked(time.monotonic() - started)
                break
            if time.monotonic() - self._most_asked_at > MOST_ASKED_EVERY:
                self._refresh_most_asked()

    def _refresh_most_asked(self) -> None:
        self._most_asked_at = time.monotonic()
        try:
            self._most_asked = self._store.most_asked(50)
        except Exception as exc:  # noqa: BLE001
            self.health.failed(exc)

    def most_asked(self, limit: int = 10) -> list[tuple[str, int]]:
        """From memory (at most MOST_ASKED_EVERY seconds old): inline mode never waits."""
        return self._most_asked[:limit]

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued record is written (tests, shutdown). False on timeout."""
        done = threading.Event()
        try:
            self._records.put(("flushed", (done,), {}), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    # -- everything else: bounded waits ----------------------------------------------------------
    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            wait = ON_LOOP
        except RuntimeError:
            wait = OFF_LOOP
        future: Future[Any] = self._calls.submit(method, *args, **kwargs)
        started = time.monotonic()
        try:
            result = future.result(wait)
        except FutureTimeout:
            exc = StoreBusy(f"the store did not answer within {wait:g} s")
            self.health.failed(exc)
            raise exc from None
        except StoreError:
            raise
        except Exception as exc:
            if not _transient(exc):  # a bug, not an outage: its traceback is wanted
                raise
            self.health.failed(exc)
            raise StoreError(one_line(exc)) from None
        self.health.worked(time.monotonic() - started)
        return result

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute
        return lambda *args, **kwargs: self._call(attribute, *args, **kwargs)

    def close(self) -> None:
        """Write what is queued (a few seconds at most), then close the store."""
        if not self.flush(5.0):
            log.warning("store: %d record(s) not written at stop", self._records.qsize())
        self._closing = True
        with contextlib.suppress(queue.Full):
            self._records.put(None, timeout=1.0)
        self._writer.join(2.0)
        try:  # a server stalled now must not hold the stop: the process exits anyway
            self._calls.submit(self._store.close).result(5.0)
        except FutureTimeout:
            log.warning("store: not closed cleanly (%s did not answer)", self.description)
        except Exception as exc:  # noqa: BLE001 - stopping anyway
            log.warning("store: not closed cleanly: %s", one_line(exc))
