"""Briefings end to end: the real bot process against the local Bot API server.

Scheduled briefings are made due by back-dating a subscription in the bot's SQLite file
(as if it had been made days ago), with the check interval at half a second: no test waits
for a wall-clock minute. Assertions are on what Telegram received."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ADMIN_ID, KNOWLEDGE, ROOT

from bot.engine import knowledge as kb
from bot.engine import render
from bot.text import fold

GROUP = -1001234500001
OTHER_GROUP = -1001234500002
CHANNEL = -1002000000077
BOT_ID = 777
FAST = {"BRIEFING_CHECK_SECONDS": "0.5"}
FACT = re.compile(r"^• “(.+)”$", re.M)


# -- helpers --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """Every article's text, folded, to check that what the bot says is in one of them."""
    knowledge = kb.load(KNOWLEDGE)
    return {
        render.credit(s): fold((KNOWLEDGE / "sources" / s.file).read_text(encoding="utf-8"))
        for s in knowledge.sources.values()
    }


def start(bot_factory, **kw):
    """Start the bot; updates queue up on the server, so there is no need to sit out the
    first (empty) long poll before talking to it."""
    return bot_factory(wait_for="deleteWebhook", **FAST, **kw)


def is_briefing(call) -> bool:
    return call.ok and call["text"].startswith("<b>Briefing: ")


def briefings(api, chat_id: int) -> list:
    return [c for c in api.calls("sendMessage", chat_id) if is_briefing(c)]


def facts(call) -> list[str]:
    """The quoted facts as the user sees them, ellipses removed."""
    return [f.strip("…") for f in FACT.findall(call.result["text"])]


def assert_is_a_good_briefing(call, sources: dict[str, str], title: str | None = None) -> None:
    shown = call.result["text"]  # as rendered by the server: what a user reads
    heading = shown.splitlines()[0]
    assert heading.startswith("Briefing: ") and (title is None or heading == f"Briefing: {title}")
    quotes = facts(call)
    assert 3 <= len(quotes) <= 6, shown
    lines = shown.splitlines()
    for quote in quotes:
        at = next(i for i, line in enumerate(lines) if quote in line)
        outlet, _, date = lines[at + 1].removeprefix("— ").rpartition(", ")
        assert outlet in sources, lines[at + 1]
        assert fold(quote) in sources[outlet], f"not verbatim in {outlet}: {quote}"
        assert re.fullmatch(r"(about )?(\d{1,2} )?[A-Z][a-z]+ \d{4}", date), date
    assert "Sources: " in shown
    links = [e for e in call.result["entities"] if e["type"] == "text_link"]
    assert links and all(e["url"].startswith("https://") for e in links)
    assert len(shown) <= 4096


def buttons(call) -> list[dict]:
    return [b for row in call["reply_markup"]["inline_keyboard"] for b in row]


def db(bot) -> sqlite3.Connection:
    return sqlite3.connect(bot.data_dir / "bot.sqlite3", timeout=10)


def row(bot, chat_id: int) -> tuple | None:
    with db(bot) as conn:
        return conn.execute(
            "SELECT topic, schedule, timezone, paused, last_sent FROM subscriptions"
            " WHERE chat_id = ?",
            (chat_id,),
        ).fetchone()


def backdate(data_dir: Path, *chat_ids: int, days: float = 2) -> None:
    """Pretend the subscriptions were made days ago, so today's occurrence is theirs."""
    conn = sqlite3.connect(data_dir / "bot.sqlite3", timeout=10)
    with conn:
        for chat_id in chat_ids:
            conn.execute(
                "UPDATE subscriptions SET created_at = created_at - ? WHERE chat_id = ?",
                (days * 86400, chat_id),
            )
    conn.close()


def hhmm(minutes_from_now: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_from_now)).strftime("%H:%M")


def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def subscribe(api, chat_id: int, args: str, user_id: int = 50, chat_type=None) -> str:
    """An administrator of the group subscribes it; returns the bot's confirmation."""
    api.set_member_status(chat_id, user_id, "administrator")
    api.message(f"/subscribe {args}", chat_id=chat_id, user_id=user_id, chat_type=chat_type)
    reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == chat_id)
    assert "Subscribed." in reply.result["text"], reply.result["text"]
    return reply.result["text"]


# -- on demand ------------------------------------------------------------------------------------
def test_briefing_on_a_topic_in_a_group(api, bot_factory, sources) -> None:
    start(bot_factory)
    api.message("/briefing@nkrights_bot prison camps", chat_id=GROUP, user_id=41)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert call["parse_mode"] == "HTML" and call.get("reply_parameters")
    assert_is_a_good_briefing(call, sources, "Political prison camps")
    assert [b.get("url") for b in buttons(call)] == ["https://t.me/nkrights_bot"]


def test_briefings_without_a_topic_rotate_and_never_repeat(api, bot_factory, sources) -> None:
    start(bot_factory)
    seen: list[str] = []
    titles: list[str] = []
    for _ in range(3):
        api.message("/briefing", chat_id=GROUP, user_id=42)
        call = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
        assert_is_a_good_briefing(call, sources)
        titles.append(call.result["text"].splitlines()[0])
        seen += facts(call)
    assert len(set(titles)) == 3
    assert len(set(seen)) == len(seen)


def test_briefing_in_a_channel_and_a_typo(api, bot_factory, sources) -> None:
    start(bot_factory)
    api.channel_post("/briefing warmbeir", chat_id=CHANNEL)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == CHANNEL)
    assert_is_a_good_briefing(call, sources, "Otto Warmbier")
    assert not call.get("reply_parameters")
    assert [b.get("url") for b in buttons(call)] == ["https://t.me/nkrights_bot"]


def test_briefing_in_private_offers_the_topic(api, bot_factory, sources) -> None:
    start(bot_factory)
    api.message("/briefing sanctions", user_id=43)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == 43)
    assert_is_a_good_briefing(call, sources, "US sanctions tied to human rights")
    assert [b.get("callback_data") for b in buttons(call)] == ["m:sanctions"]


def test_an_unknown_topic_lists_the_topics(api, bot_factory) -> None:
    start(bot_factory)
    api.message("/briefing <pizza> & pasta", chat_id=GROUP, user_id=44)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    text = call.result["text"]
    assert call.ok and "no topic called “<pizza> & pasta”" in text
    assert "camps — Political prison camps" in text and "warmbier — Otto Warmbier" in text
    assert not briefings(api, GROUP)


# -- subscribing ----------------------------------------------------------------------------------
def test_an_administrator_subscribes_and_anyone_can_see_it(api, bot_factory) -> None:
    bot = start(bot_factory)
    reply = subscribe(api, GROUP, "camps weekly mon 08:30 Europe/Berlin", user_id=51)
    assert "Political prison camps" in reply and "every Monday at 08:30 (Europe/Berlin)" in reply
    assert "Next: Mon " in reply and "08:30 Europe/Berlin" in reply
    assert row(bot, GROUP) == ("camps", "weekly mon 08:30", "Europe/Berlin", 0, None)
    api.message("/subscriptions", chat_id=GROUP, user_id=52)
    shown = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "every Monday at 08:30 (Europe/Berlin)" in shown.result["text"]
    assert any(c["user_id"] == 51 for c in api.calls("getChatMember", GROUP))


def test_a_member_is_refused_and_nothing_changes(api, bot_factory) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, "all daily 09:00", user_id=53)
    for command in ("/subscribe camps", "/unsubscribe"):
        api.message(command, chat_id=GROUP, user_id=54)  # a plain member
        refusal = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
        assert (
            "Only this group's administrators can change its briefings." in refusal.result["text"]
        )
    assert row(bot, GROUP) == (None, "daily 09:00", "UTC", 0, None)


def test_a_maintainer_may_manage_any_group(api, bot_factory) -> None:
    bot = start(bot_factory)
    api.message("/subscribe freedoms daily 18:00", chat_id=GROUP, user_id=ADMIN_ID)
    assert (
        "Subscribed." in api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP).result["text"]
    )
    api.message("/unsubscribe", chat_id=GROUP, user_id=ADMIN_ID)
    assert (
        "Unsubscribed"
        in api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP).result["text"]
    )
    assert row(bot, GROUP) is None


def test_bad_input_gets_the_usage_with_the_defaults(api, bot_factory) -> None:
    bot = start(bot_factory)
    for args, problem in (
        ("camps daily 25:00", "not a time of day"),
        ("daily 09:00 Mars/Olympus", "time zone “Mars/Olympus”"),
        ("pizza daily 09:00", "no topic called “pizza”"),
    ):
        api.message(f"/subscribe {args}", user_id=55)
        reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == 55)
        assert problem in reply.result["text"]
        if "topic" not in problem:
            assert "Defaults: all topics in rotation, daily at 09:00, UTC" in reply.result["text"]
    assert row(bot, 55) is None


def test_a_channel_subscribes_itself(api, bot_factory) -> None:
    bot = start(bot_factory)
    api.channel_post("/subscribe summits daily 07:15", chat_id=CHANNEL)
    reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == CHANNEL)
    assert (
        "Subscribed." in reply.result["text"]
        and "The Singapore and Hanoi summits" in reply.result["text"]
    )
    assert row(bot, CHANNEL)[:2] == ("summits", "daily 07:15")


def test_a_maintainer_subscribes_a_channel_from_a_private_chat(api, bot_factory) -> None:
    bot = start(bot_factory)
    api.channel_post("hello", chat_id=CHANNEL)  # the channel exists
    api.channel_post("hello", chat_id=CHANNEL - 1)
    api.set_member_status(CHANNEL, BOT_ID, "creator")
    api.set_member_status(CHANNEL - 1, BOT_ID, "member")  # may not post there
    api.message(f"/subscribe {CHANNEL} camps daily 07:00", user_id=ADMIN_ID)
    reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == ADMIN_ID)
    assert (
        "Subscribed." in reply.result["text"] and f"Test channel {CHANNEL}" in reply.result["text"]
    )
    assert row(bot, CHANNEL)[:2] == ("camps", "daily 07:00")
    api.message(f"/subscribe {CHANNEL - 1}", user_id=ADMIN_ID)
    refusal = api.wait_for("sendMessage", lambda c: c["chat_id"] == ADMIN_ID)
    assert "I can't post in" in refusal.result["text"] and "post messages" in refusal.result["text"]
    api.message(f"/subscribe {CHANNEL}", user_id=56)  # not a maintainer
    assert "maintainers" in api.wait_for("sendMessage", lambda c: c["chat_id"] == 56).result["text"]
    assert row(bot, CHANNEL - 1) is None and row(bot, CHANNEL)[0] == "camps"


# -- scheduled ------------------------------------------------------------------------------------
def test_a_scheduled_briefing_is_sent_once(api, bot_factory, sources) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, f"camps daily {hhmm(-10)}")
    time.sleep(1.5)  # its time today came before the subscription: nothing yet
    assert not briefings(api, GROUP)
    backdate(bot.data_dir, GROUP)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP, timeout=10)
    assert_is_a_good_briefing(call, sources, "Political prison camps")
    assert not call.get("reply_parameters")
    time.sleep(2)  # four more checks
    assert len(briefings(api, GROUP)) == 1
    assert row(bot, GROUP)[4] is not None
    assert f"scheduled briefing chat={GROUP}" in bot.log()


def test_subscriptions_survive_a_restart(api, bot_factory) -> None:
    first = start(bot_factory)
    subscribe(api, GROUP, "warmbier weekly fri 12:00 Asia/Seoul")
    assert first.stop() == 0
    start(bot_factory, data_dir=first.data_dir)
    api.message("/subscriptions", chat_id=GROUP, user_id=57)
    shown = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "Otto Warmbier, every Friday at 12:00 (Asia/Seoul)" in shown.result["text"]


def test_a_missed_briefing_is_sent_once_after_a_restart(api, bot_factory, sources) -> None:
    first = start(bot_factory)
    subscribe(api, GROUP, f"all daily {hhmm(-30)}")  # missed half an hour ago
    subscribe(api, OTHER_GROUP, f"all daily {hhmm(-300)}")  # five hours ago: too late
    assert first.stop() == 0
    backdate(first.data_dir, GROUP, OTHER_GROUP)
    second = start(bot_factory, data_dir=first.data_dir)
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP, timeout=10)
    assert_is_a_good_briefing(call, sources)
    time.sleep(2)
    assert second.stop() == 0
    start(bot_factory, data_dir=first.data_dir)
    time.sleep(2)
    assert len(briefings(api, GROUP)) == 1
    assert not briefings(api, OTHER_GROUP)


def test_a_subscribed_chat_sees_new_facts_each_time(api, bot_factory, sources) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, f"camps daily {hhmm(-10)}")
    api.message("/briefing camps", chat_id=GROUP, user_id=58)
    on_demand = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    backdate(bot.data_dir, GROUP)
    scheduled = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert_is_a_good_briefing(scheduled, sources, "Political prison camps")
    assert not set(facts(on_demand)) & set(facts(scheduled))


# -- Telegram events ------------------------------------------------------------------------------
def test_a_group_upgraded_to_a_supergroup_keeps_its_briefings(api, bot_factory) -> None:
    bot = start(bot_factory)
    old, new = -4000000123, -1004000000123
    subscribe(api, old, f"sanctions daily {hhmm(-10)}", chat_type="group")
    api.migrate(old, new)
    eventually(lambda: row(bot, new) is not None)
    assert row(bot, old) is None
    api.message("/subscriptions", chat_id=new, user_id=59)
    shown = api.wait_for("sendMessage", lambda c: c["chat_id"] == new)
    assert "US sanctions tied to human rights" in shown.result["text"]
    backdate(bot.data_dir, new)
    assert is_briefing(api.wait_for("sendMessage", lambda c: c["chat_id"] == new))
    assert not briefings(api, old)


def test_a_send_to_an_upgraded_group_follows_it(api, bot_factory) -> None:
    bot = start(bot_factory)
    old, new = -4000000124, -1004000000124
    subscribe(api, old, f"camps daily {hhmm(-10)}", chat_type="group")
    api.migrate_chat(old, new)  # Telegram answers "group chat was upgraded" to sends
    backdate(bot.data_dir, old)
    refused = api.wait_for("sendMessage", lambda c: c["chat_id"] == old)
    assert refused.status == 400
    assert is_briefing(api.wait_for("sendMessage", lambda c: c["chat_id"] == new))
    assert row(bot, old) is None and row(bot, new)[0] == "camps"


def test_removed_from_a_group_pauses_its_briefings(api, bot_factory) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, f"all daily {hhmm(-10)}")
    subscribe(api, OTHER_GROUP, f"all daily {hhmm(-10)}")
    api.my_chat_member(GROUP, "kicked")
    eventually(lambda: row(bot, GROUP)[3] == 1)
    attempts = len(api.calls("sendMessage", GROUP))
    backdate(bot.data_dir, GROUP, OTHER_GROUP)
    assert is_briefing(api.wait_for("sendMessage", lambda c: c["chat_id"] == OTHER_GROUP))
    time.sleep(1.5)
    assert len(api.calls("sendMessage", GROUP)) == attempts  # not even tried
    assert f"briefings paused for chat {GROUP}" in bot.log()
    api.my_chat_member(GROUP, "member", old_status="kicked")  # added back
    eventually(lambda: row(bot, GROUP)[3] == 0)
    time.sleep(1)
    assert not briefings(api, GROUP)  # resumed from now on: the missed one is not sent


def test_a_403_on_sending_pauses(api, bot_factory) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, f"all daily {hhmm(-10)}")
    api.block_chat(GROUP)
    backdate(bot.data_dir, GROUP)
    refused = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert refused.status == 403
    eventually(lambda: row(bot, GROUP)[3] == 1)
    time.sleep(1.5)
    assert len(api.calls("sendMessage", GROUP)) == 2  # the confirmation, the refused one
    assert f"briefings paused for chat {GROUP}" in bot.log()
    api.unblock_chat(GROUP)
    api.message("/subscriptions", chat_id=GROUP, user_id=60)
    shown = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP)
    assert "Paused" in shown.result["text"]


def test_a_429_is_waited_out(api, bot_factory, sources) -> None:
    bot = start(bot_factory)
    subscribe(api, GROUP, f"camps daily {hhmm(-10)}")
    api.fail_next("sendMessage", 429, retry_after=1, chat_id=GROUP)
    backdate(bot.data_dir, GROUP)
    delivered = api.wait_for("sendMessage", lambda c: c["chat_id"] == GROUP and c.ok, timeout=15)
    assert_is_a_good_briefing(delivered, sources, "Political prison camps")
    time.sleep(1.5)
    sent = api.calls("sendMessage", GROUP)
    assert [c.status for c in sent[1:]] == [429, 200]


# -- the command line -----------------------------------------------------------------------------
def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "brief", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        timeout=60,
    )


def test_cli_preview_and_post_show_the_same_facts(api, sources) -> None:
    preview = cli("--topic", "camps")
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith("Briefing: Political prison camps")
    quotes = [q.strip("…") for q in FACT.findall(preview.stdout)]
    assert 3 <= len(quotes) <= 6 and "Sources:" in preview.stdout
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url}
    posted = cli("--topic", "camps", "--post", str(CHANNEL), **env)
    assert posted.returncode == 0, posted.stderr
    call = api.wait_for("sendMessage", lambda c: c["chat_id"] == CHANNEL)
    assert_is_a_good_briefing(call, sources, "Political prison camps")
    assert facts(call) == quotes


def test_cli_errors_are_one_line_and_non_zero(api) -> None:
    unknown = cli("--topic", "pizza")
    assert unknown.returncode == 2 and "camps" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    api.block_chat(CHANNEL)
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url}
    refused = cli("--post", str(CHANNEL), **env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and str(CHANNEL) in refused.stderr
    assert cli("--post", str(CHANNEL)).returncode == 2  # no token
