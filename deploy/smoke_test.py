"""Smoke-test an installed bot without Telegram: `.venv/bin/python deploy/smoke_test.py`.

Starts the local Bot API server the tests use (tests/botapi: the standard library only, so a
production install without the dev tools runs it), points TELEGRAM_API_URL and a made-up
token at it, and runs `python -m bot run` with this clone's code, FAQ and Python: a user's
question must be answered with its sources, and SIGTERM must stop the bot with exit 0. The
bot runs in a throwaway folder, so the real .env, state and token are neither read nor
touched, and nothing reaches Telegram. Exit 0 and "OK", or 1 and the bot's log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from botapi import FakeBotAPI  # noqa: E402 - found through the line above

QUESTION = "how many people are in the prison camps?"
USER = 4242
START_TIMEOUT = 60  # seconds: the FAQ is read and checked before the first poll


def _environment(api: FakeBotAPI, folder: Path) -> dict[str, str]:
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_", "DATABASE_"))
    }
    return {
        **kept,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "BOT_DATA_DIR": str(folder / "data"),
        "PYTHONPATH": str(ROOT),  # the clone's code, installed or not
        "PYTHONUNBUFFERED": "1",
    }


def _fail(what: str, log: Path) -> int:
    print(f"FAILED: {what}\n--- the bot's output ---", file=sys.stderr)
    print(log.read_text(encoding="utf-8", errors="replace"), file=sys.stderr)
    return 1


def _check(api: FakeBotAPI, folder: Path, log: Path) -> int:
    print(f"local Bot API server at {api.url}; starting python -m bot run", flush=True)
    started = time.monotonic()
    with open(log, "wb") as out:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=folder,  # no .env here: the deployment's own settings stay out of it
            env=_environment(api, folder),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                api.wait_polling(after=0, timeout=START_TIMEOUT)
            except TimeoutError:
                return _fail(f"the bot did not start polling within {START_TIMEOUT} s", log)
            print(f"started in {time.monotonic() - started:.1f} s", flush=True)
            asked = time.monotonic()
            api.message(QUESTION, user_id=USER)
            try:
                reply = api.wait_for("sendMessage", lambda c: c["chat_id"] == USER, timeout=30)
            except TimeoutError:
                return _fail(f"no reply to {QUESTION!r}", log)
            text = reply["text"]
            if "Sources" not in text:
                return _fail(f"the reply to {QUESTION!r} has no sources: {text[:200]!r}", log)
            took = (time.monotonic() - asked) * 1000
            print(f"asked {QUESTION!r}: answered with its sources in {took:.0f} ms", flush=True)
        finally:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
            try:
                code = bot.wait(15)
            except subprocess.TimeoutExpired:
                bot.kill()
                code = bot.wait()
    if code != 0:
        return _fail(f"the bot exited with {code} on SIGTERM", log)
    print("stopped cleanly on SIGTERM\nOK")
    return 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="nkbot-smoke-") as tmp, FakeBotAPI() as api:
        folder = Path(tmp)
        return _check(api, folder, folder / "bot.log")


if __name__ == "__main__":
    sys.exit(main())
