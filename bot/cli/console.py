"""A local chat in the terminal: the bot's engine and texts, without Telegram."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.engine import render
from bot.engine.matcher import Matcher, Status

WELCOME = (
    "North Korea human-rights FAQ, local console "
    "(set TELEGRAM_BOT_TOKEN to run the Telegram bot).\n"
    "Ask a question; after 'Did you mean', type a number. Ctrl-D or 'quit' ends."
)


def chat(matcher: Matcher, lines: Iterable[str], write: Callable[[str], None]) -> None:
    write(WELCOME)
    offered = ()
    for line in lines:
        line = line.strip()
        if line.lower() in {"quit", "exit", "/quit"}:
            break
        if line.isdigit() and 1 <= int(line) <= len(offered):
            entry = offered[int(line) - 1].entry
            result = matcher.answer_for(entry)
        else:
            result = matcher.match(line)
        offered = result.candidates if result.status is Status.SUGGEST else ()
        write(render.plain(result, matcher.knowledge))
        write("")
