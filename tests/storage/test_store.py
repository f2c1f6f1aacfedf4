"""The store, on SQLite and on a real PostgreSQL server alike: what it keeps, the once-only claim
of a briefing, chat migration, schema versions, and the faults that stop the bot at start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from bot.storage import (
    HANDLED_KEEP,
    SQLiteStore,
    Store,
    StoreError,
    open_store,
    voter_hash,
)
from bot.storage.postgres import PostgresStore

BERLIN = "Europe/Berlin"
SUPERGROUP = -1001234567890  # beyond 32 bits, as every supergroup and channel id is


def test_subscriptions_are_stored_replaced_paused_and_resumed(store: Store) -> None:
    store.subscribe(-5, "camps", "daily 09:00", "UTC", now=100.0)
    sub = store.subscribe(-5, None, "weekly mon 08:00", BERLIN, now=200.0)
    assert (sub.topic, sub.schedule, sub.timezone, sub.created_at) == (
        None,
        "weekly mon 08:00",
        BERLIN,
        200.0,
    )
    assert store.set_paused(-5, True) and not store.set_paused(-5, True)
    assert store.subscriptions() == [] and len(store.subscriptions(include_paused=True)) == 1
    assert store.set_paused(-5, False, now=300.0)
    assert store.subscription(-5).created_at == 300.0 and not store.subscription(-5).paused
    assert store.unsubscribe(-5) and not store.unsubscribe(-5)


def test_a_briefing_can_be_claimed_only_once(store: Store) -> None:
    store.subscribe(-5, None, "daily 09:00", "UTC", now=100.0)
    assert store.claim_briefing(-5, None, 1000.0)
    assert not store.claim_briefing(-5, None, 1001.0)  # a second tick saw the old state
    assert store.subscription(-5).last_sent == 1000.0
    assert store.claim_briefing(-5, 1000.0, 2000.0)


def test_migration_moves_subscription_and_rotation(store: Store) -> None:
    store.subscribe(-5, "camps", "daily 09:00", "UTC")
    store.save_rotation(-5, frozenset({"a", "b"}), 3)
    assert store.move_chat(-5, -1005)
    assert store.subscription(-5) is None and store.subscription(-1005).topic == "camps"
    assert store.rotation(-1005) == (frozenset({"a", "b"}), 3)
    assert store.rotation(-5) == (frozenset(), 0)
    assert not store.move_chat(-5, -1005)  # the second service message finds nothing


def test_answers_misses_and_votes_are_counted_and_survive_a_reopen(
    store: Store, store_url: str
) -> None:
    for _ in range(3):
        store.record_answer("camps-how-many")
    store.record_answer("people-olivia-enos")
    store.record_miss("How old is Kim Jong Un?", "declined", "people-olivia-enos", 31.5, now=10.0)
    store.record_miss("how old is kim jong un", "suggest", "people-kim", 60.0, now=20.0)
    store.record_miss("pizza \x00 please", "declined", None, None, now=30.0)  # a NUL, dropped
    store.record_vote("camps-deaths", -1)
    store.record_vote("camps-deaths", 1)
    store.record_vote("camps-deaths", -5)
    store.close()
    reopened = open_store(store_url)
    try:
        assert reopened.most_asked(1) == [("camps-how-many", 3)]
        assert reopened.answer_counts() == {"camps-how-many": 3, "people-olivia-enos": 1}
        misses = reopened.misses()
        assert [(m.text, m.count) for m in misses] == [
            ("How old is Kim Jong Un?", 2),  # the first wording is kept
            ("pizza  please", 1),
        ]
        assert (misses[0].status, misses[0].best_score, misses[0].first_seen) == (
            "suggest",
            60.0,
            10.0,
        )
        assert reopened.vote_totals() == {"camps-deaths": (1, 2)}
    finally:
        reopened.close()


def test_a_voter_counts_once_per_entry_and_may_change_their_mind(store: Store) -> None:
    alice, bob = voter_hash("1:token", 7412365890), voter_hash("1:token", 7412365891)
    assert store.record_vote("camps-deaths", 1, alice)
    assert not store.record_vote("camps-deaths", 1, alice)  # a double tap, a duplicate update
    assert store.vote_totals() == {"camps-deaths": (1, 0)}
    assert store.record_vote("camps-deaths", -1, alice)  # changed their mind
    assert store.record_vote("camps-deaths", 1, bob)
    assert store.record_vote("camps-how-many", 1, alice)  # another answer, another vote
    assert store.vote_totals() == {"camps-deaths": (1, 1), "camps-how-many": (1, 0)}
    rows = store.table_rows("votes")
    assert not any("741236589" in str(value) for row in rows for value in row)


def test_a_voter_hash_is_keyed_and_hides_the_id() -> None:
    assert voter_hash("1:token", 41) == voter_hash("1:token", 41)
    assert voter_hash("1:token", 41) != voter_hash("1:token", 42)
    assert voter_hash("1:token", 41) != voter_hash("2:other", 41)  # no key, no lookup table


def open_at_version(url: str, version: int) -> Store:
    """A store as an older bot left it: only its first `version` migrations run."""
    backend = PostgresStore if url.startswith("postgresql") else SQLiteStore
    older = type("Older", (backend,), {"migrations": backend.migrations[:version]})
    return older(url if backend is PostgresStore else url.removeprefix("sqlite:///"))


def test_votes_from_before_voters_were_kept_survive_the_upgrade(store_url: str) -> None:
    old = open_at_version(store_url, 2)
    with old._tx() as db:  # as the bot of schema 2 recorded them, anonymous
        for at in (10.0, 20.0):
            db.execute(
                "INSERT INTO votes (entry_id, vote, created_at) VALUES (?, ?, ?)",
                ("camps-deaths", -1, at),
            )
    old.close()
    upgraded = open_store(store_url)
    try:
        assert upgraded.version == 4
        assert upgraded.vote_totals() == {"camps-deaths": (0, 2)}
        assert upgraded.record_vote("camps-deaths", 1, voter_hash("1:token", 41))
        assert upgraded.vote_totals() == {"camps-deaths": (1, 2)}
    finally:
        upgraded.close()


def test_handled_updates_are_remembered_across_a_reopen_for_a_day(
    store: Store, store_url: str
) -> None:
    day = 86400.0
    store.record_handled(500, now=1000.0)
    store.record_handled(501, now=1001.0)
    store.record_handled(501, now=1002.0)  # recorded twice: still one
    assert store.handled_since(0) == [500, 501]
    store.close()
    reopened = open_store(store_url)
    try:
        assert reopened.handled_since(1000.5) == [501]
        reopened.record_handled(502, now=1000.5 + day)  # a day on: 500 is forgotten
        assert reopened.handled_since(0) == [501, 502]
        reopened.record_handled(502 + HANDLED_KEEP, now=1001.5 + day)  # and only so many kept
        assert reopened.handled_since(0) == [502 + HANDLED_KEEP]
    finally:
        reopened.close()


def test_retention_purges_old_questions_and_votes(store: Store) -> None:
    store.record_miss("an old question", "declined", None, None, now=1000.0)
    store.record_miss("a new question", "declined", None, None, now=1000.0 + 40 * 86400)
    store.record_vote("camps-deaths", -1, now=1000.0)
    assert store.purge(30, now=1000.0 + 41 * 86400) == 2
    assert [m.text for m in store.misses()] == ["a new question"]
    assert store.vote_totals() == {}


def test_supergroup_and_channel_ids_fit(store: Store) -> None:
    store.subscribe(SUPERGROUP, "camps", "daily 09:00", "UTC")
    store.save_rotation(SUPERGROUP, frozenset({"camps-1"}), 2)
    assert store.subscription(SUPERGROUP).chat_id == SUPERGROUP
    assert store.rotation(SUPERGROUP) == (frozenset({"camps-1"}), 2)
    assert store.move_chat(-5, SUPERGROUP) is False


def test_moving_a_chat_keeps_what_the_new_id_already_has(store: Store) -> None:
    store.subscribe(-5, "camps", "daily 09:00", "UTC")
    store.subscribe(SUPERGROUP, "warmbier", "daily 10:00", "UTC")
    store.save_rotation(-5, frozenset({"a", "b"}), 1)
    store.save_rotation(SUPERGROUP, frozenset({"b", "c"}), 4)
    assert not store.move_chat(-5, SUPERGROUP)  # the supergroup's own subscription wins
    assert store.subscription(SUPERGROUP).topic == "warmbier" and store.subscription(-5) is None
    assert store.rotation(SUPERGROUP) == (frozenset({"a", "b", "c"}), 4)


def set_version(url: str, version: int) -> None:
    """What a newer bot would leave behind: a schema version this one does not know."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(f"PRAGMA user_version = {version}")
    else:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("UPDATE schema_version SET version = %s", (version,))


def test_a_database_from_a_newer_bot_is_refused(store: Store, store_url: str) -> None:
    store.record_vote("camps-deaths", 1)
    store.close()
    set_version(store_url, 99)
    with pytest.raises(StoreError) as refused:
        open_store(store_url)
    message = str(refused.value)
    assert "schema version 99, newer than this bot's 4" in message
    assert "\n" not in message


def test_reopening_an_up_to_date_store_migrates_nothing(store: Store, store_url: str) -> None:
    store.subscribe(-5, "camps", "daily 09:00", "UTC", now=100.0)
    store.close()
    again = open_store(store_url)
    try:
        assert again.version == 4 and again.subscription(-5).created_at == 100.0
    finally:
        again.close()


def test_postgres_carries_on_after_the_server_drops_its_connection(postgres) -> None:
    url = postgres.fresh_url()
    store = open_store(url)
    store.record_vote("camps-deaths", 1)
    with psycopg.connect(postgres.admin_url, autocommit=True) as admin:  # a restart, a failover
        dropped = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (psycopg.conninfo.conninfo_to_dict(url)["dbname"],),
        ).fetchall()
    assert dropped == [(True,)]
    store.record_vote("camps-deaths", -1)
    assert store.vote_totals() == {"camps-deaths": (1, 1)}
    store.close()


# -- faults that stop the bot at start, as one line ----------------------------------------------
def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    for data_dir in (tmp_path / "data", tmp_path / "data" / "below", Path("/etc/passwd")):
        with pytest.raises(StoreError) as refused:
            open_store(data_dir=data_dir)
        assert str(refused.value) == (
            f"cannot use the SQLite file {data_dir}/bot.sqlite3: {data_dir} is not a folder"
        ) or str(refused.value).endswith(f"{tmp_path / 'data'} is not a folder")


def test_a_data_dir_nobody_may_write_is_one_line() -> None:
    with pytest.raises(StoreError, match="cannot use the SQLite file /proc/nkbot/bot.sqlite3"):
        open_store(data_dir=Path("/proc/nkbot"))


def test_a_corrupt_sqlite_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bot.sqlite3").write_bytes(b"this was never a database" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        SQLiteStore(tmp_path / "bot.sqlite3")


def test_an_unreachable_postgres_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://bot:hunter2-secret@/nkbot?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreError) as refused:
        open_store(url)
    message = str(refused.value)
    assert message.startswith("cannot use PostgreSQL bot@localhost/nkbot: ")
    assert "hunter2" not in message and "\n" not in message


def test_a_postgres_role_that_may_not_create_tables_is_one_line_without_its_password(
    postgres,
) -> None:
    url = postgres.fresh_url()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE ROLE nkbot_reader LOGIN PASSWORD 'reader-secret'")
    before, _, query = url.partition("?")
    reader = before.replace("postgres@", "nkbot_reader:reader-secret@") + "?" + query
    with pytest.raises(StoreError) as refused:
        open_store(reader)
    message = str(refused.value)
    assert message.startswith("cannot use PostgreSQL nkbot_reader@") and "permission" in message
    assert "reader-secret" not in message and "\n" not in message
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP ROLE nkbot_reader")


def test_postgres_connections_carry_timeouts_and_keepalives(postgres) -> None:
    """A stalled or locked server costs seconds, never forever: the server gives up a query
    after statement_timeout or lock_timeout, and a peer gone silent is noticed by keepalives."""
    store = open_store(postgres.fresh_url())
    try:
        db = store._conn()
        shown = {
            name: db.execute(f"SHOW {name}").fetchone()[0]
            for name in ("statement_timeout", "lock_timeout")
        }
        assert shown == {"statement_timeout": "5s", "lock_timeout": "3s"}
        params = db.info.get_parameters()
        assert params.get("keepalives") == "1" and params.get("connect_timeout")
    finally:
        store.close()
