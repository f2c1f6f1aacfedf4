"""The SQLite store: subscriptions, the once-only claim of a briefing, and chat migration."""

from __future__ import annotations

from bot.storage import Store

BERLIN = "Europe/Berlin"


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
