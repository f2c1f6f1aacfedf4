"""The maintainer's loop: edit the YAML while the bot runs, see what users missed, fix it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import ADMIN_ID, ROOT, ask

from bot.storage import SQLiteStore, Store

MISSED = "how big is the penal colony population in the hermit kingdom"


def admin_says(api, text: str, timeout: float = 15):
    return api.wait_for(
        "sendMessage", lambda c: c["chat_id"] == ADMIN_ID and text in c["text"], timeout
    )


def test_a_good_edit_goes_live_without_a_restart(api, bot_factory, knowledge_copy: Path) -> None:
    bot_factory(KNOWLEDGE_DIR=str(knowledge_copy), RELOAD_INTERVAL="0.3")
    assert "Sources" not in ask(api, MISSED, 501)["text"]
    synonyms = knowledge_copy / "synonyms.yaml"
    synonyms.write_text(
        synonyms.read_text().replace(
            "  kwanliso: [", "  kwanliso: [penal colony population, hermit kingdom camps, "
        )
        + "\n",
        encoding="utf-8",
    )
    faq = knowledge_copy / "faq" / "camps.yaml"
    faq.write_text(
        faq.read_text().replace(
            "      - number of political prisoners in north korea\n",
            "      - number of political prisoners in north korea\n"
            "      - how big is the penal colony population\n",
        ),
        encoding="utf-8",
    )
    note = admin_says(api, "Reloaded")
    assert "camps-how-many" in note["text"]
    assert "120,000" in ask(api, MISSED, 502)["text"]


def test_a_bad_edit_is_refused_and_the_last_good_version_keeps_serving(
    api, bot_factory, knowledge_copy: Path
) -> None:
    bot = bot_factory(KNOWLEDGE_DIR=str(knowledge_copy), RELOAD_INTERVAL="0.3")
    faq = knowledge_copy / "faq" / "camps.yaml"
    faq.write_text(faq.read_text().replace("source: time", "source: timez", 1), encoding="utf-8")
    note = admin_says(api, "Reload refused")
    assert "faq/camps.yaml:" in note["text"] and "unknown source" in note["text"]
    bot.wait_log("WARNING bot.telegram.maintenance: knowledge changed on disk: Reload refused")
    assert "120,000" in ask(api, "how many people are in the prison camps", 503)["text"]


def test_reload_command_is_for_admins_in_private(api, bot_factory) -> None:
    bot_factory()
    api.message("/reload", user_id=ADMIN_ID)
    assert "No entry changed" in admin_says(api, "Reloaded")["text"]
    refusal = ask(api, "/reload", 504)
    assert "maintainers" in refusal["text"]


def test_report_command_shows_what_users_missed(api, bot_factory) -> None:
    bot = bot_factory()
    for user in (505, 506):
        ask(api, "how many nuclear warheads does the dprk have", user)
    db = sqlite3.connect(bot.data_dir / "bot.sqlite3")
    deadline = time.monotonic() + 5  # one writer thread records misses after the answers
    while db.execute("SELECT SUM(count) FROM questions").fetchone()[0] != 2:
        assert time.monotonic() < deadline, "the misses were never recorded"
        time.sleep(0.05)
    db.close()
    api.message("/report", user_id=ADMIN_ID)
    report = admin_says(api, "FAQ report")
    assert "2× “how many nuclear warheads does the dprk have”" in report["text"]
    assert "maintainers" in ask(api, "/report", 507)["text"]


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def seeded_store(data_dir: Path) -> Store:
    store = SQLiteStore(data_dir / "bot.sqlite3")
    for text in ("how old is kim jong un", "How old is Kim Jong Un??", "how old is kim jong-un"):
        store.record_miss(text, "declined", "people-olivia-enos", 31.0)
    for _ in range(3):
        store.record_miss("kwanliso inmates total", "suggest", "camps-how-many", 70.0)
    store.record_miss("pizza", "declined", None, None)
    store.record_vote("camps-deaths", -1)
    store.record_vote("camps-deaths", -1)
    store.record_vote("camps-deaths", 1)
    store.record_answer("camps-how-many")
    return store


def test_report_groups_near_identical_questions_with_counts(tmp_path: Path) -> None:
    seeded_store(tmp_path).close()
    run = run_cli("report", data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "3× “kwanliso inmates total”" in out and "camps-how-many" in out
    assert "3× “how old is kim jong un”" in out  # three spellings, one row
    assert "camps-deaths: 2 👎, 1 👍" in out
    never = out.split("never matched")[1]
    assert "camps-deaths" in never and "camps-how-many" not in never
    data = json.loads(run_cli("report", "--format", "json", data_dir=tmp_path).stdout)
    assert data["misses"][0]["count"] == 3 and data["disliked"][0]["entry_id"] == "camps-deaths"


def test_suggest_prints_yaml_for_review_and_writes_nothing(tmp_path: Path) -> None:
    seeded_store(tmp_path).close()
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "knowledge").rglob("*.yaml")}
    run = run_cli("suggest", data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "  - id: camps-how-many" in run.stdout and '"kwanliso inmates total"' in run.stdout
    assert "pizza" not in run.stdout  # no plausible entry, nothing to suggest
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "knowledge").rglob("*.yaml")} == before


def test_questions_are_stored_without_users_and_purged_after_retention(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bot.sqlite3")
    columns = {row[1] for row in store._db.execute("PRAGMA table_info(questions)")}
    assert not {"user_id", "chat_id", "user", "chat"} & columns
    old = time.time() - 40 * 86400
    store.record_miss("an old question", "declined", None, None, now=old)
    store.record_miss("a new question", "declined", None, None)
    store.record_vote("camps-deaths", -1, now=old)
    assert store.purge(30) == 2
    assert [m.text for m in store.misses()] == ["a new question"]


def test_a_refused_reload_logs_each_problem_as_validate_prints_it(
    api, bot_factory, knowledge_copy: Path
) -> None:
    bot = bot_factory(KNOWLEDGE_DIR=str(knowledge_copy), RELOAD_INTERVAL="0.3")
    faq = knowledge_copy / "faq" / "camps.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("answer:", "answr:", 2), "utf-8")
    api.wait_for("sendMessage", lambda c: c["chat_id"] == ADMIN_ID, timeout=20)
    log = bot.wait_log("Reload refused")
    problems = [line for line in log.splitlines() if "WARNING" in line and "camps.yaml:" in line]
    assert len(problems) >= 2, log
    assert all(re.search(r"faq/camps\.yaml:\d+: ", line) for line in problems), problems
