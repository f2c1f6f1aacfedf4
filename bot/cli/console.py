"""A local chat in the terminal: the bot's engine, commands and texts, without Telegram.

Questions go through the same FaqService as the bot's, so with a store they are recorded
like the bot's and `report` / `suggest` can be tried locally. Line editing and history come
from the standard library's readline as soon as it is imported."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from bot.cli import console_text as text
from bot.engine import briefings
from bot.engine.followup import FOLLOW_UP
from bot.engine.matcher import Result, Status
from bot.engine.models import Entry, Topic
from bot.engine.service import FaqService

PROMPT = "> "
INTERRUPTED = 130  # Ctrl-C on an empty line, as shells report it


@dataclass
class Session:
    """One console conversation: what a number typed next would pick, the last answer (what
    a short follow-up such as "when was that?" is read with, as in a Telegram chat), and the
    briefing rotation (each fact once before any repeats)."""

    service: FaqService
    menu: list[Topic | Entry] = field(default_factory=list)
    rotation: briefings.Rotation = field(default_factory=briefings.Rotation)
    recording: str | None = None
    last: Entry | None = None

    def handle(self, line: str, style: text.Style) -> str | None:
        """The reply to one line; None to leave."""
        line = line.strip()
        if not line:
            return ""
        if line.lower() in text.QUIT_WORDS:
            return None
        if line.lower() in ("help", "/help", "?"):
            return text.help_text(style)
        if line.startswith("/"):
            return self.command(line, style)
        if line.isascii() and line.isdigit():
            return self.pick(line, style)
        return self.ask(line, style)

    def command(self, line: str, style: text.Style) -> str:
        name, _, arg = line.partition(" ")
        name = name.partition("@")[0].lower()  # /topics@yourbot, as Telegram groups send it
        arg = arg.strip()
        knowledge = self.service.knowledge
        if name == "/start":
            return text.welcome(style, self.recording)
        if name == "/topics":
            self.menu = list(knowledge.topics.values())
            return text.topics_menu(self.menu, style)
        if name == "/about":
            return text.about(knowledge, style)
        if name == "/briefing":
            return self.briefing(arg, style)
        if name == "/ask":
            return self.ask(arg, style)
        return text.unknown_command(name, style)

    def briefing(self, query: str, style: text.Style) -> str:
        knowledge = self.service.knowledge
        topic_id = None
        if query:
            match = briefings.find_topic(knowledge, query)
            if match.topic is None:
                return text.unknown_topic(query, match, knowledge, style)
            topic_id = match.topic.id
        chosen = briefings.pick(knowledge, self.rotation, topic_id)
        self.rotation = chosen.rotation
        return text.briefing(chosen.briefing, style)

    def pick(self, number: str, style: text.Style) -> str:
        if not self.menu:
            return text.no_menu(style)
        n = int(number)
        if not 1 <= n <= len(self.menu):
            return text.out_of_range(number, len(self.menu), style)
        chosen = self.menu[n - 1]
        if isinstance(chosen, Topic):
            self.menu = self.service.knowledge.topic_entries(chosen.id)
            return text.topic_menu(chosen, self.menu, style)
        result = self.service.choose(chosen.id)
        if result is None:  # cannot happen without a reload; say so rather than crash
            self.menu = []
            return text.no_menu(style)
        return self.show(result, style)  # its follow-ups become the menu, as under a button

    def ask(self, question: str, style: text.Style) -> str:
        previous = self.last
        result = self.service.ask(question, after=previous.id if previous else None)
        reply = self.show(result, style)
        if result.reason == FOLLOW_UP and previous is not None:
            return f"{text.following_on(previous, style)}\n\n{reply}"
        return reply

    def show(self, result: Result, style: text.Style, *, keep_menu: bool = False) -> str:
        if result.status is Status.SUGGEST:
            self.menu = [c.entry for c in result.candidates]
        elif result.alternatives:  # "Not what you asked?": numbered, one keystroke away
            self.menu = [c.entry for c in result.alternatives]
        elif not keep_menu:
            self.menu = []
        reply = text.result_text(result, self.service.knowledge, style)
        return reply + self.next_steps(result, style)

    def next_steps(self, result: Result, style: text.Style) -> str:
        """Under an answer, what Telegram's buttons offer: the follow-up questions and "More on
        this topic", numbered after any choice already on the menu. A question the bot could
        not answer ends the thread: a follow-up after it is read on its own."""
        if result.status is Status.ANSWERED and result.entry:
            self.last = result.entry
            offered: list[Topic | Entry] = list(self.service.next_questions(result.entry))
            topic = self.service.knowledge.topics.get(result.entry.topic)
            start = len(self.menu) + 1
            self.menu += [*offered, *([topic] if topic else [])]
            return "\n\n" + text.next_steps(offered, topic, start, style)
        if result.status in (Status.SUGGEST, Status.DECLINED):
            self.last = None
        return ""


def _line_editing() -> object | None:
    """readline on a terminal (arrow keys, history, Ctrl-A/E); None when piped."""
    if not sys.stdin.isatty():
        return None
    try:
        import readline
    except ImportError:  # Python built without it: plain input() still works
        return None
    return readline


def run_console(service: FaqService, recording: str | None = None) -> int:
    """The chat until quit, Ctrl-D (exit 0) or Ctrl-C on an empty line (exit 130)."""
    readline = _line_editing()
    session = Session(service, recording=recording)
    print(text.welcome(text.Style.for_stream(), recording), end="\n\n", flush=True)
    while True:
        try:
            line = input(PROMPT if readline else "")
        except EOFError:
            if readline:
                print()  # Ctrl-D leaves the cursor after the prompt: end that line
            return 0
        except KeyboardInterrupt:
            typed = readline.get_line_buffer() if readline else ""  # type: ignore[attr-defined]
            print()
            if typed.strip():
                continue  # a half-typed line: dropped, a fresh prompt
            return INTERRUPTED
        reply = session.handle(line, text.Style.for_stream())
        if reply is None:
            return 0
        if reply:
            print(reply, end="\n\n", flush=True)
