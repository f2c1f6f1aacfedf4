"""`python -m bot run` as a deployer meets it in the first hour: each start-up fault is one line
with its own exit code and no traceback, and no output ever shows the token, the webhook secret
or the database password, whatever goes wrong (Telegram refusing the token, a mistyped API
root, an API that is down or too slow, `brief --post` failing)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT

WEBHOOK_SECRET = "hook-secret-NOT-TO-PRINT"
DB_PASSWORD = "db-password-NOT-TO-PRINT"


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_", "DATABASE_", "KNOWLEDGE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_no_secret(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    output = result.stdout + result.stderr
    for secret in secrets:
        assert secret not in output, output
    assert "Traceback" not in output and "Logging error" not in output, output


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.strip().splitlines()[-1]


# -- Telegram says no, or says nothing --------------------------------------------------------
def faulty(api, fault: str) -> dict[str, str]:
    """The environment of a bot that meets `fault`; the token always has a private half that
    must never be printed."""
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url}
    if fault == "401":  # a token Telegram does not know
        env["TELEGRAM_BOT_TOKEN"] = "777:WRONG-private-half-of-the-token"
    elif fault == "404":  # a valid token, a mistyped API root
        env["TELEGRAM_API_URL"] = f"{api.url}/typo"
    elif fault == "unreachable":
        env["TELEGRAM_API_URL"] = "http://127.0.0.1:9"
    elif fault == "slow":
        api.slow_down("getMe", 30)
    return env


FAULTS = {  # fault: (exit code, what the one line says)
    "401": (4, "refused TELEGRAM_BOT_TOKEN (Unauthorized on getMe)"),
    "404": (4, "refused TELEGRAM_BOT_TOKEN (Not Found on getMe)"),
    "unreachable": (5, "was unreachable"),
    "slow": (5, "did not answer getMe in time"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_telegram_faults_are_one_line_and_never_show_a_secret(api, tmp_path, fault) -> None:
    env = faulty(api, fault)
    result = run(
        "run",
        "--webhook",
        **env,
        LOG_LEVEL="DEBUG",  # the most talkative level must not leak either
        WEBHOOK_URL="https://bot.example.org/telegram",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        BOT_DATA_DIR=str(tmp_path / "data"),
    )
    code, says = FAULTS[fault]
    assert result.returncode == code, result.stderr
    assert last_line(result).startswith("telegram error: the Bot API at ")
    assert says in last_line(result) and env["TELEGRAM_API_URL"] in last_line(result)
    assert_no_secret(result, env["TELEGRAM_BOT_TOKEN"].split(":")[1], WEBHOOK_SECRET)


def test_a_rejected_token_at_info_is_exactly_one_line(api, tmp_path) -> None:
    result = run("run", **faulty(api, "401"), BOT_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 4
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("fault", ["401", "404"])
def test_brief_post_failing_never_shows_the_token(api, fault) -> None:
    env = faulty(api, fault)
    result = run("brief", "--topic", "camps", "--post", "-100200", **env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "could not post to -100200" in result.stderr
    assert_no_secret(result, env["TELEGRAM_BOT_TOKEN"].split(":")[1])


def test_the_webhook_secret_is_not_logged_at_debug(api, webhook_bot) -> None:
    bot, _ = webhook_bot(WEBHOOK_SECRET, LOG_LEVEL="DEBUG")
    assert api.calls("setWebhook")[0]["secret_token"] == WEBHOOK_SECRET
    bot.wait_log("Application started")  # the webhook server is up
    assert bot.stop() == 0
    log = bot.log()
    assert "setWebhook" in log  # the line that used to carry the secret is still there
    assert WEBHOOK_SECRET not in log and api.token.split(":")[1] not in log


# -- the start-up line -----------------------------------------------------------------------
def test_the_start_up_line_names_mode_api_storage_and_entries(
    api, bot_factory, backend_env, knowledge
) -> None:
    bot = bot_factory(**backend_env)
    line = next(
        ln for ln in bot.wait_log("started @").splitlines() if "started @nkrights_bot" in ln
    )
    storage = "PostgreSQL postgres@" if backend_env else f"SQLite {bot.data_dir}/bot.sqlite3"
    assert f": polling, Bot API {api.url}, storage {storage}" in line
    assert line.endswith(f", {len(knowledge.entries)} entries")
    assert api.token.split(":")[1] not in bot.log()


# -- storage and settings faults ---------------------------------------------------------------
def test_storage_faults_are_one_line_and_exit_3(api, tmp_path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url}
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "bot.sqlite3").write_bytes(b"garbage" * 1000)
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / "bot.sqlite3") as db:
        db.execute("PRAGMA user_version = 7")
    cases = {
        str(a_file): "cannot use the SQLite file",
        "/proc/nkbot-data": "cannot use the SQLite file /proc/nkbot-data/bot.sqlite3",
        str(corrupt): "file is not a database",
        str(newer): "schema version 7, newer than this bot's 4",
    }
    for data_dir, says in cases.items():
        result = run("run", **env, BOT_DATA_DIR=data_dir)
        assert result.returncode == 3, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("storage error: ") and says in result.stderr
        assert_no_secret(result, api.token.split(":")[1])
    assert not api.calls("getMe")  # nothing reached Telegram before the state was sound


def test_an_unreachable_database_is_one_line_without_its_password(api, tmp_path) -> None:
    url = f"postgresql://bot:{DB_PASSWORD}@/nkbot?host={tmp_path}&connect_timeout=2"
    result = run("run", TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url, DATABASE_URL=url)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("storage error: cannot use PostgreSQL bot@localhost/nkbot")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert_no_secret(result, DB_PASSWORD, api.token.split(":")[1])


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KNOWLEDGE_DIR": "/nonexistent/knowledge"}, "KNOWLEDGE_DIR: /nonexistent/knowledge"),
        ({"WEBHOOK_URL": "http://bot.example.org/hook"}, "WEBHOOK_URL: must be an https:// URL"),
        ({"DATABASE_URL": "mysql://bot@db/x"}, "DATABASE_URL: must be a postgres"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(env: dict[str, str], says: str) -> None:
    result = run("run", TELEGRAM_BOT_TOKEN="1:abc", **env)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr


def test_a_webhook_port_in_use_is_one_line_and_exit_2(api, tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            "run",
            "--webhook",
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_URL=api.url,
            BOT_DATA_DIR=str(tmp_path),
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            PORT=str(port),
        )
    assert result.returncode == 2, result.stderr
    # one line: no "started" or "stopped" before it, as if the bot had run
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert last_line(result).startswith(f"configuration error: cannot listen on 127.0.0.1:{port}")
    assert "PORT" in last_line(result)
    assert_no_secret(result, api.token.split(":")[1], WEBHOOK_SECRET)
    assert not api.calls("setWebhook")  # Telegram is not pointed at a server that is not there
