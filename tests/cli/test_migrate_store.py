"""`python -m bot migrate-store`: a deployer who started on SQLite moves every vote, missed
question and subscription to PostgreSQL (and back) without losing or doubling any."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from bot.storage import COLUMNS, Store, open_store

CHANNEL = -1002000000077


def migrate(source: str, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate-store", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
        timeout=60,
    )


def seed(store: Store) -> None:
    store.record_answer("camps-how-many", now=100.0)
    store.record_answer("camps-how-many", now=200.0)
    store.record_miss("how old is kim jong un", "declined", "people-olivia-enos", 31.0, now=50.0)
    store.record_vote("camps-deaths", -1, now=60.0)
    store.record_vote("camps-deaths", 1, now=70.0)
    store.subscribe(CHANNEL, "camps", "weekly mon 08:30", "Europe/Berlin", now=80.0)
    store.subscribe(-5, None, "daily 09:00", "UTC", now=90.0)
    store.set_paused(-5, True)
    assert store.claim_briefing(CHANNEL, None, 1000.0)
    store.save_rotation(CHANNEL, frozenset({"camps-1", "camps-2"}), 3)


def everything(url: str) -> dict[str, list[tuple]]:
    store = open_store(url)
    try:
        return {table: store.table_rows(table) for table in COLUMNS}
    finally:
        store.close()


def test_state_moves_from_sqlite_to_postgres_and_back(postgres, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    seeded = open_store(sqlite_url)
    seed(seeded)
    seeded.close()
    before = everything(sqlite_url)
    assert all(before.values())  # every table has something to lose

    pg_url = postgres.fresh_url()
    moved = migrate(sqlite_url, pg_url)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("copied SQLite ") and "to PostgreSQL " in moved.stdout
    assert "2 votes" in moved.stdout and "2 subscriptions" in moved.stdout
    assert everything(pg_url) == before
    on_postgres = open_store(pg_url)
    assert on_postgres.subscription(-5).paused and on_postgres.vote_totals() == {
        "camps-deaths": (1, 1)
    }
    on_postgres.close()

    back = f"sqlite:///{tmp_path / 'back' / 'bot.sqlite3'}"
    assert migrate(pg_url, back).returncode == 0
    assert everything(back) == before


def test_a_store_that_holds_state_is_not_copied_into(postgres, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    seeded = open_store(sqlite_url)
    seed(seeded)
    seeded.close()
    pg_url = postgres.fresh_url()
    assert migrate(sqlite_url, pg_url).returncode == 0
    again = migrate(sqlite_url, pg_url)
    assert again.returncode == 3 and "already holds state" in again.stderr
    assert len(everything(pg_url)["votes"]) == 2  # nothing doubled


def test_a_missing_source_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    result = migrate(f"sqlite:///{missing}", f"sqlite:///{tmp_path / 'b.sqlite3'}")
    assert result.returncode == 3
    assert result.stderr.strip() == f"storage error: there is no SQLite file at {missing}"
    assert not missing.exists() and not (tmp_path / "b.sqlite3").exists()


# Passwords libpq reads differently from Python's urlsplit: an unescaped @, / or # moved part
# of them into the host, the port or the database name, which an error message then printed.
HOSTILE_URLS = [
    "postgresql://bot:Leak@Secret-Part-42@127.0.0.1:5432/nkbot",
    "postgresql://bot:Leak/Secret-Part-42@127.0.0.1:5432/nkbot",
    "postgresql://bot:Leak#Secret-Part-42@127.0.0.1:5432/nkbot",
    "postgresql://bot:Leak:Secret-Part-42@127.0.0.1:5432/nkbot",
    "postgresql://bot:Leak@Secret/Part#42@127.0.0.1:5432/nkbot",
    "postgresql://bot:Leak Secret-Part-42@127.0.0.1:5432/nkbot",
    "postgresql://bot:LeakSecret-Part-42@127.0.0.1:99999/nkbot",
    "postgresql://bot:LeakSecret-Part-42@127.0.0.1:port/nkbot",
]
PIECES = ("Leak", "Secret", "Part", "42")


def run_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TELEGRAM_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, "TELEGRAM_BOT_TOKEN": "123:abc", **env},
        timeout=60,
    )


def test_no_piece_of_a_password_is_printed_for_any_database_url(tmp_path: Path) -> None:
    for url in HOSTILE_URLS:
        for done in (
            run_bot({"DATABASE_URL": url}, "run"),
            migrate(f"sqlite:///{tmp_path / 'none.sqlite3'}", url),
            migrate(url, f"sqlite:///{tmp_path / 'new.sqlite3'}"),
        ):
            output = done.stdout + done.stderr
            shown = [piece for piece in PIECES if piece in output]
            assert not shown, (url, output)
            # refused before anything starts: one line, a setting to fix (or, for a URL libpq
            # reads cleanly, one storage line about the unreachable server)
            assert len(output.strip().splitlines()) == 1, (url, output)
            assert done.returncode in (2, 3), (url, output)


def test_an_unreadable_url_or_a_bad_port_is_one_configuration_error_line() -> None:
    for url in (HOSTILE_URLS[0], HOSTILE_URLS[1], HOSTILE_URLS[6], HOSTILE_URLS[7]):
        done = run_bot({"DATABASE_URL": url}, "run")
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("configuration error: DATABASE_URL: "), done.stderr
        assert "Traceback" not in done.stderr
        moved = migrate(url, "sqlite:///x.sqlite3")
        assert moved.returncode == 2 and moved.stderr.startswith("configuration error: SOURCE")
