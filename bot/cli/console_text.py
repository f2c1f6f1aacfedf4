"""How the console chat looks: the engine's texts, wrapped to the terminal, bold and dim on a
terminal and plain when piped or when NO_COLOR is set (https://no-color.org).

The wording comes from the engine (render, smalltalk, briefings); this module only lays it
out for a terminal, as bot/telegram lays it out as HTML."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.engine import render, smalltalk
from bot.engine.briefings import Briefing, TopicMatch, briefing_text, unknown_topic_text
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Result, Status
from bot.engine.models import Entry, Topic
from bot.text import shorten

EXAMPLES = (
    "how many people are in the prison camps?",
    "why can't sanctions just be lifted?",
    "what happened to otto warmbier?",
)
TITLE = "North Korea, human rights and the Trump–Kim summits: a sourced FAQ"
QUIT_WORDS = frozenset({"quit", "exit", "bye", "q", "/quit", "/exit"})
ECHO = 60  # characters of a user's words repeated back


@dataclass(frozen=True)
class Style:
    """Bold and dim as ANSI codes, or nothing; and the width to wrap to."""

    color: bool
    width: int

    @classmethod
    def for_stream(cls, stream: TextIO = sys.stdout) -> Style:
        tty = stream.isatty()
        color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        # One column short of the edge: a line that fills the last column makes some terminals
        # wrap the cursor onto an empty line.
        width = shutil.get_terminal_size((80, 24)).columns - 1 if tty else 79
        return cls(color, max(20, width))

    def _ansi(self, code: str, text: str) -> str:
        """Each line set on its own: a line the terminal shows alone keeps its style."""
        if not self.color:
            return text
        return "\n".join(f"\x1b[{code}m{line}\x1b[22m" if line else "" for line in text.split("\n"))

    def bold(self, text: str) -> str:
        return self._ansi("1", text)

    def dim(self, text: str) -> str:
        return self._ansi("2", text)

    def wrap(self, text: str, indent: str = "", first: str | None = None) -> list[str]:
        """Lines no wider than the terminal, broken between words only: URLs and hyphenated
        names stay whole."""
        return textwrap.wrap(
            text,
            self.width,
            initial_indent=indent if first is None else first,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [indent.rstrip()]

    def fill(self, text: str, indent: str = "") -> str:
        return "\n".join(
            "\n".join(self.wrap(paragraph, indent)) if paragraph.strip() else ""
            for paragraph in text.split("\n")
        )


def _echo(text: str) -> str:
    return shorten(text, ECHO)


def numbered(items: Sequence[str], style: Style, start: int = 1) -> list[str]:
    digits = len(str(start + len(items) - 1))
    lines = []
    for n, item in enumerate(items, start):
        label = f"  {n:>{digits}}. "
        lines += style.wrap(item, " " * len(label), first=label)
    return lines


# -- answers ------------------------------------------------------------------------------------
def answer(entry: Entry, knowledge: Knowledge, style: Style) -> str:
    """The answer, then each article once (render.citations_by_source) with its quotes."""
    lines = [
        *(style.bold(line) for line in style.wrap(render.understood(entry))),
        style.fill(entry.answer),
        "",
        style.bold("Sources:"),
    ]
    for n, (source, quotes) in enumerate(render.citations_by_source(entry, knowledge), 1):
        label = f"  [{n}] "
        pad = " " * len(label)
        lines += style.wrap(render.source_line(source), pad, first=label)
        lines.append(style.dim(pad + source.url))
        for quote in quotes:
            lines += style.wrap(f"\u201c{quote}\u201d", pad)
    return "\n".join(lines)


def following_on(previous: Entry, style: Style) -> str:
    """Said before an answer found with the previous one's help, so the reader knows what
    "that" was taken to mean (Telegram's wording)."""
    return style.dim(style.fill(f"\u21aa Following on from \u201c{previous.questions[0]}\u201d"))


def next_steps(offered: Sequence[Entry], topic: Topic | None, start: int, style: Style) -> str:
    """The follow-up questions and "More on this topic", as Telegram's buttons offer them."""
    items = [e.questions[0] for e in offered]
    if topic is not None:
        items.append(f"More on this topic: {topic.title}")
    lines = [style.bold("Ask next")]
    lines += numbered(items, style, start)
    lines.append(style.dim(style.fill("Type a number to pick one.")))
    return "\n".join(lines)


def suggestions(result: Result, style: Style) -> str:
    lines = [style.bold(style.fill("I'm not sure which you mean. Did you mean:"))]
    lines += numbered([c.entry.questions[0] for c in result.candidates], style)
    lines.append(style.dim(style.fill("Type a number to pick one, or ask again in other words.")))
    return "\n".join(lines)


def declined(result: Result, knowledge: Knowledge, style: Style) -> str:
    """The engine's decline without its run-on list of every topic: /topics shows them."""
    text, _, topics = render.declined_text(result, knowledge).partition(" Topics: ")
    if topics:
        text += " Type /topics to see what I can answer."
    if not result.alternatives:
        return style.fill(text)
    lines = [style.fill(text), "", style.bold(render.CLOSEST)]
    lines += numbered([c.entry.questions[0] for c in result.alternatives], style)
    return "\n".join([*lines, style.dim("Type its number to see that answer.")])


def result_text(result: Result, knowledge: Knowledge, style: Style) -> str:
    if result.status is Status.ANSWERED and result.entry:
        shown = "\n\n".join(answer(e, knowledge, style) for e in result.entries)
        if not result.alternatives:
            return shown
        lines = [shown, "", style.bold(render.NOT_WHAT_YOU_ASKED)]
        lines += numbered([c.entry.questions[0] for c in result.alternatives], style)
        return "\n".join([*lines, style.dim("Type its number to see that answer.")])
    if result.status is Status.SUGGEST:
        return suggestions(result, style)
    if result.status is Status.SMALLTALK:
        return style.fill(result.reply or "")
    return declined(result, knowledge, style)


# -- commands -----------------------------------------------------------------------------------
def welcome(style: Style, recording: str | None) -> str:
    lines = [
        style.bold(style.fill(TITLE)),
        style.fill(
            "Ask a question in your own words, for example: "
            f"{EXAMPLES[0]} Type help for the commands, quit or Ctrl-D to leave."
        ),
    ]
    if recording:
        lines.append(
            style.dim(
                style.fill(
                    f"Questions the FAQ misses are recorded in {recording} (see `report`); "
                    "--no-record turns that off."
                )
            )
        )
    return "\n".join(lines)


def help_text(style: Style) -> str:
    commands = [
        ("/topics", "the topics as a numbered menu; type a number to open one"),
        ("/briefing [topic]", "a short briefing: key facts, each with its source"),
        ("/about", "what this bot is and its five sources"),
        ("/ask QUESTION", "the same as typing the question"),
        ("help, /help", "this text"),
        ("quit, exit, bye, q", "leave (or Ctrl-D; Ctrl-C on an empty line)"),
    ]
    width = max(len(name) for name, _ in commands) + 4
    lines = [style.bold("Commands")]
    for name, what in commands:
        lines += style.wrap(what, " " * width, first=f"  {name:<{width - 2}}")
    lines += ["", style.bold("Ask in your own words, for example")]
    lines += [f"  {example}" for example in EXAMPLES]
    lines += [
        "",
        style.fill(
            "After a numbered list, type a number to pick. Arrow keys recall earlier questions."
        ),
    ]
    return "\n".join(lines)


def about(knowledge: Knowledge, style: Style) -> str:
    lines = [style.bold("About this bot"), style.fill(smalltalk.ABOUT), "", style.bold("Sources")]
    for source in knowledge.sources.values():
        lines += style.wrap(render.source_line(source), "    ", first="  \u2022 ")
        lines.append(style.dim("    " + source.url))
    return "\n".join(lines)


def topics_menu(topics: Sequence[Topic], style: Style) -> str:
    lines = [style.bold("Topics")]
    lines += numbered([t.title for t in topics], style)
    lines.append(style.dim(style.fill("Type a number to see the questions of a topic.")))
    return "\n".join(lines)


def topic_menu(topic: Topic, entries: Sequence[Entry], style: Style) -> str:
    lines = [style.bold(style.fill(topic.title)), style.fill(topic.summary), ""]
    lines += numbered([e.questions[0] for e in entries], style)
    lines.append(style.dim(style.fill("Type a number for the answer.")))
    return "\n".join(lines)


def out_of_range(number: str, count: int, style: Style) -> str:
    return style.fill(f"There is no choice {_echo(number)}: type a number from 1 to {count}.")


def no_menu(style: Style) -> str:
    return style.fill("No list to pick from: ask a question, or type /topics for a numbered menu.")


def unknown_command(command: str, style: Style) -> str:
    return style.fill(f"There is no command {_echo(command)}. Type help for the commands.")


def briefing(chosen: Briefing, style: Style) -> str:
    """briefings.briefing_text, wrapped line by line with hanging indents, title in bold."""
    lines: list[str] = []
    for line in briefing_text(chosen).split("\n"):
        body = line.lstrip(" ")
        lead = line[: len(line) - len(body)]
        if body.startswith("\u2022 "):
            lines += style.wrap(body, lead + "  ", first=lead)
        elif body.startswith("\u2014 "):
            lines += [style.dim(part) for part in style.wrap(body, lead + "  ", first=lead)]
        elif body.startswith("http") or ": http" in body:
            lines.append(line)
        else:
            lines += style.wrap(body, lead, first=lead) if body else [""]
    title = lines.index("") if "" in lines else 1
    lines[:title] = [style.bold(line) for line in lines[:title]]  # a wrapped title stays bold
    return "\n".join(lines)


def unknown_topic(query: str, match: TopicMatch, knowledge: Knowledge, style: Style) -> str:
    head, topics = unknown_topic_text(query, match, knowledge)
    lines = [style.fill(head)]
    pad = max(len(t.id) for t in topics)
    for t in topics:
        label = f"  /briefing {t.id:<{pad}}  "
        indent = " " * len(label) if style.width - len(label) >= 20 else "      "
        if len(indent) < len(label):  # too narrow for a column of titles: each under its id
            lines.append(label.rstrip())
            lines += [style.dim(line) for line in style.wrap(t.title, indent)]
            continue
        first, *rest = style.wrap(t.title, indent, first=label)
        lines += [label + style.dim(first[len(label) :]), *(style.dim(line) for line in rest)]
    return "\n".join(lines)
