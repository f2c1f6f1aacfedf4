"""Briefings and topic lists as Telegram HTML and as terminal text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.engine import render
from bot.engine.briefings.facts import Briefing, TopicMatch
from bot.engine.briefings.schedule import SUBSCRIBE_EXAMPLES, SUBSCRIBE_USAGE
from bot.engine.knowledge import Knowledge
from bot.engine.models import Source, Topic
from bot.text import shorten

ECHO = 100  # characters of a user's words repeated back


def _echo(text: str, limit: int = ECHO) -> str:
    """A user's words quoted back, shortened: a 4,000-character argument must not push the
    reply past Telegram's 4,096."""
    return escape(shorten(text, limit))


# -- rendering ------------------------------------------------------------------------------------
def _quoted(quote: str) -> str:
    """The quote as the FAQ has it, in quotation marks, with an ellipsis where it starts or
    stops mid-sentence."""
    text = quote.strip()
    lead = "\u2026" if text[:1].islower() else ""
    tail = "" if text[-1:] in ".!?\"'\u201d\u2019)" else "\u2026"
    return f"\u201c{lead}{text}{tail}\u201d"


def attribution(source: Source) -> str:
    return f"{render.credit(source)}, {render.human_date(source)}"


def briefing_html(briefing: Briefing) -> str:
    """One Telegram message: title, facts each with outlet and date, then the links."""
    facts = list(briefing.facts)
    while True:
        shown = Briefing(briefing.topic, tuple(facts))
        parts = [f"<b>Briefing: {escape(briefing.topic.title)}</b>"]
        for fact in facts:
            parts += [
                "",
                f"• {escape(_quoted(fact.quote))}",
                f"<i>— {escape(attribution(fact.source))}</i>",
            ]
        links = " · ".join(
            f'<a href="{escape(s.url)}">{escape(s.outlet)}</a>' for s in shown.sources
        )
        parts += ["", f"<b>Sources:</b> {links}"]
        html = "\n".join(parts)
        if len(html) <= render.TELEGRAM_LIMIT or len(facts) == 1:
            return html
        facts.pop()  # never with today's quotes, but never send a 400


def briefing_text(briefing: Briefing) -> str:
    """The same briefing for a terminal."""
    lines = [f"Briefing: {briefing.topic.title}"]
    for fact in briefing.facts:
        lines += ["", f"\u2022 {_quoted(fact.quote)}", f"  \u2014 {attribution(fact.source)}"]
    lines += ["", "Sources:"]
    lines += [f"  {s.outlet}: {s.url}" for s in briefing.sources]
    return "\n".join(lines)


def topics_text(topics: Sequence[Topic]) -> str:
    return "\n".join(f"{t.id} \u2014 {t.title}" for t in topics)


def topics_html(topics: Sequence[Topic]) -> str:
    return "\n".join(f"<code>{escape(t.id)}</code> — {escape(t.title)}" for t in topics)


def unknown_topic_text(
    query: str, match: TopicMatch, knowledge: Knowledge
) -> tuple[str, Sequence[Topic]]:
    """What to say when `query` names no one topic (plain text, the user's words shortened),
    and the topics to offer: the bot and the console say the same."""
    words = shorten(query, ECHO)
    if match.ambiguous:
        return f"\u201c{words}\u201d fits more than one topic. Which one?", match.candidates
    head = f"I have no topic called \u201c{words}\u201d. The topics are:"
    return head, tuple(knowledge.topics.values())


def unknown_topic_html(query: str, match: TopicMatch, knowledge: Knowledge) -> str:
    head, topics = unknown_topic_text(query, match, knowledge)
    return f"{escape(head)}\n{topics_html(topics)}"


def usage_html(problem: str | None = None) -> str:
    lines = [_echo(problem, 3 * ECHO), ""] if problem else []  # it may quote a word
    usage, defaults = SUBSCRIBE_USAGE.split("\n", 1)
    lines += [f"<b>Usage:</b> <code>{escape(usage)}</code>", escape(defaults), "Examples:"]
    lines += [f"<code>{escape(example)}</code>" for example in SUBSCRIBE_EXAMPLES]
    return "\n".join(lines)
