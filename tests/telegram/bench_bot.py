"""Benchmark of the running bot over loopback (a program that prints figures, not a test).

Starts `python -m bot run` against the local Bot API server and measures:
- latency: from an update being queued at the server to its reply being recorded there,
  p50 and p99 over 200 questions asked one after another;
- head of line: another chat's latency while one chat sends 15 questions at once, beside the
  single-chat latency;
- burst: 300 users asking at once: how many were answered, in how long, and the send rate
  against Telegram's ~30 messages a second;
- CPU time of the bot process per answer (from /proc, user + system).

Run: .venv/bin/python tests/telegram/bench_bot.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))  # botapi, conftest
sys.path.insert(0, str(TESTS.parent))  # bot

from botapi import FakeBotAPI  # noqa: E402
from conftest import BotProcess  # noqa: E402

from bot.cli import evaluation  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def questions(n: int) -> list[str]:
    cases = [c.question for c in evaluation.load_cases(evaluation.DEFAULT_SET)]
    return [cases[i % len(cases)] for i in range(n)]


def main() -> None:
    with FakeBotAPI(bot_id=777) as api, tempfile.TemporaryDirectory() as tmp:
        bot = BotProcess(api, Path(tmp) / "data").start()
        pid = bot.proc.pid

        latencies = []
        cpu_before = cpu_seconds(pid)
        for i, question in enumerate(questions(200)):
            user = (
                10_000 + i
            )  # distinct chats: the one-message-a-second per chat limit is not the subject here
            queued = time.time()
            api.message(question or "?", user_id=user)
            call = api.wait_for("sendMessage", lambda c, u=user: c["chat_id"] == u, timeout=30)
            latencies.append((call.time - queued) * 1000)
        cpu_sequential = cpu_seconds(pid) - cpu_before
        latencies.sort()
        print("sequential, 200 questions (update queued -> reply recorded):")
        print(
            f"  p50 {statistics.median(latencies):.1f} ms   p99 {latencies[197]:.1f} ms"
            f"   max {latencies[-1]:.1f} ms"
        )
        print(f"  bot CPU per answer {cpu_sequential / 200 * 1000:.1f} ms")

        probes = []
        for trial in range(10):
            flooder, other = 30_000 + trial, 31_000 + trial
            for question in questions(15):
                api.message(question or "?", user_id=flooder)
            queued = time.time()
            api.message("who is olivia enos", user_id=other)
            call = api.wait_for("sendMessage", lambda c, u=other: c["chat_id"] == u, timeout=60)
            probes.append((call.time - queued) * 1000)
        probes.sort()
        print("head of line, one chat sends 15 questions at once and another chat asks (10 times):")
        print(
            f"  other chat p50 {statistics.median(probes):.1f} ms   max {probes[-1]:.1f} ms"
            f"   (single chat alone: p50 {statistics.median(latencies):.1f} ms)"
        )
        time.sleep(15)  # let the flooders' answers drain at one a second per chat

        api.clear()
        users = [20_000 + i for i in range(300)]
        started = time.time()
        cpu_before = cpu_seconds(pid)
        for user, question in zip(users, questions(300), strict=True):
            api.message(question or "?", user_id=user)
        deadline = started + 120
        while time.time() < deadline:
            answered = {c["chat_id"] for c in api.calls("sendMessage") if c.ok}
            if answered >= set(users):
                break
            time.sleep(0.2)
        sends = sorted(c.time for c in api.calls("sendMessage") if c.ok)
        elapsed = sends[-1] - started
        busiest = max(sum(1 for t in sends if s <= t < s + 1) for s in sends)
        print("burst, 300 users at once:")
        print(
            f"  answered {len(answered & set(users))}/300 in {elapsed:.1f} s "
            f"({len(sends) / elapsed:.1f} messages/s; busiest second {busiest},"
            " Telegram allows ~30)"
        )
        print(f"  bot CPU per answer {(cpu_seconds(pid) - cpu_before) / len(sends) * 1000:.1f} ms")
        bot.stop()


if __name__ == "__main__":
    main()
