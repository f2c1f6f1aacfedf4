"""The console chat as a newcomer meets it: the real `python -m bot chat` in a pseudo-terminal
(pexpect), typing as a person types, Ctrl-C and Ctrl-D included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT

from bot.engine import followup, render

PROMPT = "> "
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_", "DATABASE_", "NO_COLOR", "NKBOT_"))
    }
    return {**clean, "BOT_DATA_DIR": str(data_dir), "TERM": "xterm", **extra}


class Console:
    """One console chat in a terminal of the given size."""

    def __init__(
        self, data_dir: Path, *args: str, columns: int = 100, command: str = "chat", **env: str
    ) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "bot", command, *args],
            cwd=str(ROOT),
            env=environment(data_dir, **env),
            encoding="utf-8",
            timeout=60,
            dimensions=(40, columns),
        )
        self.child.expect_exact(PROMPT)
        self.welcome = self.child.before

    def say(self, line: str) -> str:
        """What the console printed in reply to one line, up to its next prompt."""
        self.child.sendline(line)
        self.child.expect_exact(PROMPT)
        out = self.child.before.replace("\r\n", "\n")
        return out.split("\n", 1)[1] if "\n" in out else ""  # drop the echoed line

    def exit_code(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def console(tmp_path: Path):
    started: list[Console] = []

    def start(*args: str, **kwargs) -> Console:
        started.append(Console(tmp_path / "data", *args, **kwargs))
        return started[-1]

    yield start
    for c in started:
        c.child.close(force=True)


def plain(text: str) -> str:
    return ANSI.sub("", text)


def test_the_bots_commands_are_commands_not_questions(console) -> None:
    chat = console()
    start = plain(chat.say("/start"))
    assert "Ask a question" in start and "Sources:" not in start  # not an answer "as a start"
    topics = plain(chat.say("/topics"))
    assert "1. Access to North Korea" in topics and "12. Otto Warmbier" in topics
    assert "multiple topics" not in topics
    camps = plain(chat.say("4"))
    assert camps.startswith("Political prison camps")
    first_question = re.search(r"  1\. (.+)", camps).group(1)
    answer = plain(chat.say("1"))
    assert "Sources:" in answer and "[1]" in answer, first_question
    about = plain(chat.say("/about"))
    for outlet in ("Vox", "Human Rights Watch", "Just Security", "TIME", "HuffPost"):
        assert outlet in about
    briefing = plain(chat.say("/briefing prison camps"))
    assert briefing.startswith("Briefing: Political prison camps") and "\u2022 \u201c" in briefing
    rotation = plain(chat.say("/briefing"))
    assert rotation.startswith("Briefing: ")
    unknown = plain(chat.say("/briefing pizza"))
    assert "no topic called" in unknown and "/briefing camps" in unknown
    asked = plain(chat.say("/ask how many people are in the prison camps?"))
    assert "120,000" in asked
    assert "There is no command /frobnicate" in plain(chat.say("/frobnicate"))


def test_run_without_a_token_at_a_terminal_is_the_console_chat(console) -> None:
    chat = console(command="run")
    assert "console chat" in plain(chat.welcome)
    assert "Heritage" in plain(chat.say("who is olivia enos"))


def test_help_lists_the_commands_examples_and_how_to_leave(console) -> None:
    text = plain(console().say("help"))
    for command in ("/topics", "/briefing", "/about", "quit", "Ctrl-D"):
        assert command in text
    assert "how many people are in the prison camps?" in text


@pytest.mark.parametrize("word", ["quit", "exit", "bye", "q"])
def test_quit_words_leave(console, word: str) -> None:
    chat = console()
    chat.child.sendline(word)
    assert chat.exit_code() == 0


def test_ctrl_d_ends_the_line_then_leaves(console) -> None:
    chat = console()
    chat.child.sendeof()
    chat.child.expect(pexpect.EOF)
    assert chat.child.before.endswith("\r\n")  # the shell's prompt starts on a line of its own
    chat.child.close()
    assert chat.child.exitstatus == 0


def test_ctrl_c_clears_a_half_typed_line_and_leaves_on_an_empty_one(console) -> None:
    chat = console()
    chat.child.send("how many people are in the")
    chat.child.expect_exact("in the")  # echoed: readline holds it
    chat.child.sendintr()
    chat.child.expect_exact(PROMPT)  # still running, a fresh prompt
    assert chat.child.isalive()
    assert "120,000" in chat.say("how many people are in the prison camps?")
    chat.child.sendintr()
    assert chat.exit_code() == 130


def test_arrow_up_recalls_the_previous_question(console) -> None:
    chat = console()
    chat.say("who is olivia enos")
    chat.child.send("\x1b[A")  # arrow up
    chat.child.send("\r")
    chat.child.expect_exact(PROMPT)
    assert "Heritage" in chat.child.before and "^[[A" not in chat.child.before


def test_a_number_picks_a_did_you_mean_choice_and_an_unknown_one_says_so(console) -> None:
    chat = console()
    offered = plain(chat.say("summit"))
    assert "Did you mean" in offered
    choices = re.findall(r"^\s+(\d+)\. (.+)$", offered, re.M)
    assert len(choices) >= 2
    missing = plain(chat.say("9"))
    assert f"There is no choice 9: type a number from 1 to {len(choices)}." in missing
    assert "Sorry" not in missing
    picked = plain(chat.say("2"))
    assert "Sources:" in picked


def test_follow_ups_as_in_telegram(console, knowledge, matcher) -> None:
    """Numbered follow-up questions and "More on this topic" under an answer, and a short
    question after it read with it, as Telegram offers them."""
    chat = console()
    first = plain(chat.say("forced labour"))
    entry = matcher.match("forced labour").entry
    assert entry is not None and " ".join(entry.answer.split()) in " ".join(first.split())
    offered = dict(re.findall(r"^\s+(\d+)\. (.+)$", first, re.M))
    expected = [e.questions[0] for e in followup.next_questions(matcher, entry)]
    assert [offered[str(n)] for n in range(1, len(expected) + 1)] == expected, first
    assert offered[str(len(expected) + 1)] == "More on this topic: Forced labour", first
    again = plain(chat.say("when was that?"))
    assert f"\u21aa Following on from \u201c{entry.questions[0]}\u201d" in again
    assert "Sorry" not in again and entry.answer.split()[0] in again
    followed = plain(chat.say("1"))
    chosen = next(e for e in knowledge.entries.values() if e.questions[0] == offered["1"])
    assert " ".join(chosen.answer.split()[:10]) in " ".join(followed.split())
    topic = plain(chat.say(str(len(expected) + 1)))
    assert topic.splitlines()[0] == "Forced labour" and "Type a number for the answer." in topic
    chat.say("what's the weather in paris tomorrow?")  # the thread ends with a decline
    assert "Following on" not in plain(chat.say("when was that?"))


def test_korean_is_told_the_bot_answers_in_english(console) -> None:
    reply = plain(console().say("북한 정치범 수용소는 몇 개입니까?"))
    assert "I answer in English, from English sources" in reply
    assert "Please type a question" not in reply


def test_text_is_wrapped_to_the_terminal_width(console, knowledge) -> None:
    chat = console(columns=50)
    reply = plain(chat.say("how many people are in the prison camps?"))
    lines = reply.splitlines()
    assert max(len(line) for line in lines if "://" not in line) <= 50
    words = set(reply.split())
    entry = next(e for e in knowledge.entries.values() if "120,000" in e.answer)
    assert "120,000" in words and all(w in words for w in entry.answer.split()[:40]), reply


@pytest.mark.parametrize("columns", [50, 80])
def test_no_line_is_wider_than_the_terminal(console, columns: int) -> None:
    """A line as wide as the terminal or wider is broken by the terminal, mid-word. Only a
    link or a path, which no break may split, can be wider."""
    chat = console(columns=columns)
    replies = [chat.welcome]
    for line in ("/briefing", "/briefing xyz", "summit", "/topics", "11", "help", "/about"):
        replies.append(chat.say(line))
    for reply in replies:
        for line in plain(reply).replace("\r\n", "\n").splitlines():
            unbreakable = "://" in line or " " not in line.strip()
            assert len(line) < columns or unbreakable, f"{len(line)}: {line}"


def test_quotes_of_one_article_come_under_one_source_line(console, knowledge) -> None:
    entry = next(
        e
        for e in knowledge.entries.values()
        if len({c.source for c in e.citations}) < len(e.citations)
    )
    source = knowledge.sources[entry.citations[0].source]
    reply = plain(console(columns=400).say(entry.questions[0]))
    assert reply.count(source.url) == 1, reply
    assert reply.count(render.source_line(source)) == 1
    for citation in entry.citations:
        assert citation.quote in reply


def test_the_decline_is_short_and_points_to_topics(console, knowledge) -> None:
    reply = plain(console(columns=400).say("what's the weather in paris tomorrow?"))
    assert "Sorry" in reply and "/topics" in reply
    assert list(knowledge.topics.values())[-1].title not in reply  # no run-on list of 12 topics


def test_bold_on_a_terminal_plain_with_no_color_or_a_pipe(console, tmp_path: Path) -> None:
    question = "how many people are in the prison camps?"
    assert "\x1b[1m" in console().say(question)
    assert "\x1b[" not in console(NO_COLOR="1").say(question)
    piped = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=f"{question}\nquit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(tmp_path / "data"),
        timeout=60,
    )
    assert piped.returncode == 0 and "120,000" in piped.stdout
    assert "\x1b[" not in piped.stdout and "Sources:" in piped.stdout


def test_questions_are_recorded_for_the_report_unless_told_not_to(console, tmp_path) -> None:
    miss = "how many submarines does the north korean navy have"
    chat = console()
    assert "Sorry" in chat.say(miss)
    chat.child.sendline("quit")
    assert chat.exit_code() == 0
    report = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert f"1× “{miss}”" in report.stdout, report.stdout + report.stderr
    quiet = Console(tmp_path / "quiet", "--no-record")
    quiet.say(miss)
    quiet.child.sendline("quit")
    assert quiet.exit_code() == 0
    assert not (tmp_path / "quiet").exists()
