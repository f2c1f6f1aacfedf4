"""Shared fixtures: the real knowledge base (loaded once) and throwaway copies to break."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from botapi import FakeBotAPI
from pgserver import PostgresServer

from bot.engine import knowledge as kb
from bot.engine import startcache
from bot.engine.matcher import Matcher
from bot.storage import open_store

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"

# One start-up cache for this run and every process it starts, never the user's own: the
# first process to load a FAQ caches it for the hundreds that follow.
_CACHE = tempfile.TemporaryDirectory(prefix="nkbot-test-cache-")
os.environ[startcache.ENV] = _CACHE.name


@pytest.fixture(scope="session")
def knowledge() -> kb.Knowledge:
    return kb.load(KNOWLEDGE)


@pytest.fixture(scope="session")
def matcher(knowledge: kb.Knowledge) -> Matcher:
    return Matcher(knowledge)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A full, valid copy of knowledge/ that a test may edit or break."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


MINIMAL_FAQ = """\
topic:
  id: camps
  title: Political prison camps
  summary: The kwan-li-so and who is held there.
entries:
  - id: camps-how-many
    questions:
      - How many people are held in the political prison camps?
      - kwanliso numbers
    answer: >-
      After the February 2019 Hanoi summit, Amnesty International USA's Bencosme wrote that up
      to 120,000 people were held in four known political prison camps.
    citations:
      - source: time
        quote: "Up to 120,000 people remain in detention in four known political prison camps"
  - id: camps-denial
    questions:
      - Does North Korea admit the camps exist?
    answer: >-
      Amnesty International USA's Bencosme wrote in about February 2019 that the North Korean
      government continues to deny that the camps exist.
    citations:
      - source: time
        quote: "The North Korean government, however, continues to deny that they exist."
"""


# A hostile knowledge file ("billion laughs"): 342 bytes that expand to 9**9 strings once walked.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.fixture
def minimal_knowledge(tmp_path: Path) -> Callable[[str], Path]:
    """A knowledge dir with the real sources and one FAQ file of the test's choosing."""

    def make(faq_yaml: str = MINIMAL_FAQ, name: str = "camps.yaml") -> Path:
        root = tmp_path / "kb"
        if not root.exists():
            (root / "faq").mkdir(parents=True)
            shutil.copy(KNOWLEDGE / "sources.yaml", root / "sources.yaml")
            shutil.copytree(KNOWLEDGE / "sources", root / "sources")
        (root / "faq" / name).write_text(textwrap.dedent(faq_yaml), encoding="utf-8")
        return root

    return make


# -- the real bot process against the local Bot API server ------------------------------------
ADMIN_ID = 9001


class BotProcess:
    """`python -m bot run` as a deployer starts it, with the environment pointed at the fake."""

    def __init__(self, api: FakeBotAPI, data_dir: Path, **env: str) -> None:
        self.api = api
        self.data_dir = data_dir
        self.log_path = data_dir / "bot.log"
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "BOT_", "WEBHOOK_", "DATABASE_"))
        }
        self.env = {
            **base,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
            "BOT_DATA_DIR": str(data_dir),
            "BOT_ADMIN_IDS": str(ADMIN_ID),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str, wait_for: str | None = "getUpdates") -> BotProcess:
        data = self.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        polls = self.api.polls
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait_for:
            try:
                if wait_for == "getUpdates":  # listening: its first long poll is open
                    self.api.wait_polling(after=polls, timeout=30)
                else:
                    self.api.wait_for(wait_for, timeout=30)
            except TimeoutError:
                self.stop()
                raise AssertionError(f"bot did not start:\n{self.log()}") from None
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, timeout: float = 5) -> str:
        """The log once it contains text (lines are written after the reply is sent)."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never logged:\n{log}")
            time.sleep(0.05)
        return log

    def stop(self, timeout: float = 10) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def ask(api: FakeBotAPI, question: str, user: int):
    """A private message from `user`, and the bot's reply to it as Telegram received it."""
    api.message(question, user_id=user)
    return api.wait_for("sendMessage", lambda c: c["chat_id"] == user)


def buttons(call) -> list[dict]:
    """Every inline button of a sent message, row after row."""
    return [b for row in call["reply_markup"]["inline_keyboard"] for b in row]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api():
    with FakeBotAPI(bot_id=777, bot_username="nkrights_bot") as fake:
        yield fake


@pytest.fixture
def bot_factory(api: FakeBotAPI, tmp_path: Path):
    """Start bot processes on demand; all are stopped at the end of the test."""
    started: list[BotProcess] = []

    def start(
        *args: str, wait_for: str | None = "getUpdates", data_dir: Path | None = None, **env: str
    ):
        bot = BotProcess(api, data_dir or tmp_path / "data", **env)
        started.append(bot.start(*args, wait_for=wait_for))
        return bot

    yield start
    for bot in started:
        bot.stop()


@pytest.fixture
def webhook_bot(bot_factory):
    """Start the bot in webhook mode on a free port: (the process, its webhook URL). The bot
    listens before it calls setWebhook, so once that call is seen the URL answers."""

    def start(secret: str, host: str = "127.0.0.1", **env: str) -> tuple[BotProcess, str]:
        port = free_port()
        url = f"http://{host}:{port}/telegram"
        bot = bot_factory(
            "--webhook",
            wait_for="setWebhook",
            WEBHOOK_URL=url,
            WEBHOOK_SECRET=secret,
            PORT=str(port),
            **env,
        )
        return bot, url

    return start


# -- the store, on both backends ----------------------------------------------------------------
BACKENDS = ("sqlite", "postgres")
POSTGRES_SKIPPED: list[str] = []


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (see pgserver). Without one the PostgreSQL
    half of the tests is skipped, loudly; in CI (CI=true) that is a failure instead."""
    server = PostgresServer()
    try:
        server.start()
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or b""
        reason = f"PostgreSQL tests skipped: {exc} {detail.decode(errors='replace')}".strip()
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must run them: .ci/run installs postgresql)")
        POSTGRES_SKIPPED.append(reason)
        pytest.skip(reason)
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    for reason in dict.fromkeys(POSTGRES_SKIPPED):
        terminalreporter.write_line(f"WARNING: {reason}", yellow=True, bold=True)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty store lives: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    return request.getfixturevalue("postgres").fresh_url()


@pytest.fixture
def store(store_url: str):
    """An empty store, on each backend in turn."""
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture(params=BACKENDS)
def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """What puts a bot process's state on each backend: nothing (SQLite in BOT_DATA_DIR), or a
    DATABASE_URL naming a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    return {"DATABASE_URL": request.getfixturevalue("postgres").fresh_url()}
