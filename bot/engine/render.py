"""How answers look: plain text for the terminal, HTML for Telegram, dicts for JSON.
Everything from users or the FAQ is escaped here, in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.engine import smalltalk
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import BEYOND, Result, Status
from bot.engine.models import Entry, Source
from bot.text import shorten

TELEGRAM_LIMIT = 4096
# An inline result's title and description as a phone shows them (one line, two lines):
# longer ones are cut off by the client mid-word.
INLINE_TITLE = 64
INLINE_DESCRIPTION = 120


@dataclass(frozen=True)
class Cited:
    source: Source
    quote: str


def citations(entry: Entry, knowledge: Knowledge) -> list[Cited]:
    return [Cited(knowledge.sources[c.source], c.quote) for c in entry.citations]


def citations_by_source(entry: Entry, knowledge: Knowledge) -> list[tuple[Source, list[str]]]:
    """Each article once, in order of first citation, with all its quotes: an answer citing
    Vox three times shows Vox's source line once, not three times."""
    grouped: dict[str, tuple[Source, list[str]]] = {}
    for cited in citations(entry, knowledge):
        grouped.setdefault(cited.source.id, (cited.source, []))[1].append(cited.quote)
    return list(grouped.values())


def human_date(source: Source) -> str:
    """'12 June 2018', or 'about June 2018' when the date is inferred."""
    date: dt.date = source.date
    if "date" in source.inferred:
        return f"about {date:%B %Y}"
    return f"{date.day} {date:%B %Y}"


def _marked(source: Source, name: str, value: str) -> str:
    return f"{value} (inferred)" if name in source.inferred else value


def title(source: Source) -> str:
    """The headline in quotation marks; when the text does not show it, the standfirst,
    labelled as such, never passed off as a headline."""
    if source.headline is not None:
        return _marked(source, "headline", f"\u201c{source.headline}\u201d")
    return f"standfirst \u201c{source.standfirst}\u201d (headline unknown)"


def outlet(source: Source) -> str:
    """Where the piece appeared: 'Just Security, republished by Human Rights Watch'."""
    if source.republished_by:
        return f"{source.outlet}, republished by {source.republished_by}"
    return source.outlet


def byline(source: Source) -> str:
    """Who wrote it and where they worked, each as sure as the evidence: 'by Bencosme
    (Amnesty International USA)', 'by Alex Ward (inferred)', 'no byline (...)'."""
    affiliation = source.affiliation
    if affiliation == source.outlet and source.author:
        affiliation = None  # "Human Rights Watch, by Phil Robertson (Human Rights Watch)"
    if source.author is None:
        if affiliation is None:
            return "no byline"
        guess = "inferred" if "affiliation" in source.inferred else "known"
        return f"no byline (author {guess} to be {affiliation} staff)"
    line = f"by {_marked(source, 'author', source.author)}"
    return f"{line} ({_marked(source, 'affiliation', affiliation)})" if affiliation else line


def credit(source: Source) -> str:
    """A short attribution for one quote: the outlet, and the author with their affiliation
    when the text confirms them (an inferred author or affiliation is left out here; the
    full source line shows it, marked)."""
    line = outlet(source)
    if source.author is None or "author" in source.inferred:
        return line
    line += f", by {source.author}"
    affiliation = source.affiliation
    if affiliation and affiliation != source.outlet and "affiliation" not in source.inferred:
        line += f" ({affiliation})"
    return line


def source_line(source: Source) -> str:
    return f"{outlet(source)}, {title(source)}, {byline(source)}, {human_date(source)}"


UNDERSTOOD = 120  # the question line over an answer: one short line on a phone


def understood(entry: Entry) -> str:
    """The question an answer answers, shown over it: whichever way a question was routed
    here, the reader sees at once what the bot understood, and can tell a misreading."""
    return shorten(entry.questions[0], UNDERSTOOD)


NOT_WHAT_YOU_ASKED = "Not what you asked?"
CLOSEST = "Closest I have:"  # a decline's offer, when an entry came near an answer


def topic_list(knowledge: Knowledge) -> str:
    return ", ".join(t.title for t in knowledge.topics.values())


# -- plain text ----------------------------------------------------------------------------------
def plain_answer(entry: Entry, knowledge: Knowledge) -> str:
    """One entry: the question it answers, the answer, its sources with their quotes."""
    lines = [f"Q: {understood(entry)}", entry.answer, "", "Sources:"]
    for n, (s, quotes) in enumerate(citations_by_source(entry, knowledge), 1):
        lines.append(f"  [{n}] {source_line(s)}")
        lines.append(f"      {s.url}")
        lines += [f"      \u201c{quote}\u201d" for quote in quotes]
    return "\n".join(lines)


def plain(result: Result, knowledge: Knowledge) -> str:
    if result.status is Status.ANSWERED and result.entry:
        text = "\n\n".join(plain_answer(entry, knowledge) for entry in result.entries)
        if result.alternatives:
            others = "; ".join(c.entry.questions[0] for c in result.alternatives)
            text += f"\n\n{NOT_WHAT_YOU_ASKED} Perhaps: {others}"
        return text
    if result.status is Status.SUGGEST:
        lines = ["I'm not sure which you mean. Did you mean:"]
        lines += [f"  {n}. {c.entry.questions[0]}" for n, c in enumerate(result.candidates, 1)]
        return "\n".join(lines)
    if result.status is Status.SMALLTALK:
        return result.reply or ""
    text = declined_text(result, knowledge)
    if result.alternatives:
        text += f"\n\n{CLOSEST} " + "; ".join(c.entry.questions[0] for c in result.alternatives)
    return text


def declined_text(result: Result, knowledge: Knowledge) -> str:
    if result.reason == "empty":
        return "Please type a question, for example: how many people are in the prison camps?"
    if result.reason == "not-english":
        return (
            "I answer in English, from English sources. Please ask in English, for example: "
            "how many people are in the prison camps?"
        )
    if result.reason == "injection":
        return "I only answer questions about North Korea's human-rights record, from my sources."
    if result.reason == BEYOND:
        return smalltalk.beyond_reply(result.about)
    what = result.about if result.reason == "not-covered" and result.about else "that"
    # "unasked": the nearest entry does not say what was asked ("who flew to Pyongyang…?")
    said = f"say {result.about}" if result.reason == "unasked" else f"cover {what}"
    return (
        f"Sorry, my sources don't {said}. I answer questions about North Korea's "
        f"human-rights record and the Trump–Kim summits. Topics: {topic_list(knowledge)}."
    )


# -- Telegram HTML -------------------------------------------------------------------------------
def source_line_html(source: Source) -> str:
    """The source line with the outlet's name as the link."""
    link = f'<a href="{escape(source.url)}">{escape(source.outlet)}</a>'
    return link + escape(source_line(source).removeprefix(source.outlet))


def credit_html(source: Source) -> str:
    """The short credit with the outlet's name as the link."""
    link = f'<a href="{escape(source.url)}">{escape(source.outlet)}</a>'
    return link + escape(credit(source).removeprefix(source.outlet))


def answer_html(
    entry: Entry,
    knowledge: Knowledge,
    *,
    quotes: bool = True,
    after: Entry | None = None,
    also: Sequence[Entry] = (),
) -> str:
    """The question understood, the answer and one short line per article (the outlet as the
    link, the author as far as the text confirms them, the date) stay in view on a phone; the
    headline, the full byline with what is inferred, and the verbatim quotes are folded into
    one expandable block per article. `after`: the entry a short follow-up question was read
    with, named first so the reader knows what "that" was taken to mean. `also`: the entries
    answering a multi-part question's other parts, each with its own sources; quotes are
    dropped (the source lines kept) when all of it would pass Telegram's limit."""
    blocks = [_answer_block(e, knowledge, quotes) for e in (entry, *also)]
    if after is not None:
        followed = escape(after.questions[0])
        blocks[0] = f"<i>\u21aa Following on from \u201c{followed}\u201d</i>\n{blocks[0]}"
    html = "\n\n".join(blocks)
    if len(html) > TELEGRAM_LIMIT and quotes:  # never send a 400
        return answer_html(entry, knowledge, quotes=False, after=after, also=also)
    if len(html) > TELEGRAM_LIMIT and also:  # still too long: the parts that fit
        return answer_html(entry, knowledge, quotes=False, after=after, also=also[:-1])
    return html


def _answer_block(entry: Entry, knowledge: Knowledge, quotes: bool) -> str:
    parts = [f"<b>{escape(understood(entry))}</b>", escape(entry.answer), "", "<b>Sources</b>"]
    for source, said in citations_by_source(entry, knowledge):
        if not quotes:
            parts.append(f"• {source_line_html(source)}")
            continue
        parts.append(f"• {credit_html(source)}, {escape(human_date(source))}")
        shown = credit(source)
        by = "" if shown.endswith(byline(source)) else f", {byline(source)}"  # not twice
        folded = [escape(f"{title(source)}{by}")]
        folded += [f"\u201c{escape(quote)}\u201d" for quote in said]
        parts.append(f"<blockquote expandable>{chr(10).join(folded)}</blockquote>")
    return "\n".join(parts)


def inline_title(entry: Entry) -> str:
    """A result's title in the inline list: the entry's first phrasing, cut at a word when
    it is longer than a phone shows (another phrasing would fit, but may ask less)."""
    return shorten(entry.questions[0], INLINE_TITLE)


def inline_description(entry: Entry) -> str:
    """A result's two grey lines: the start of the answer."""
    return shorten(entry.answer, INLINE_DESCRIPTION)


def declined_html(result: Result, knowledge: Knowledge) -> str:
    return escape(declined_text(result, knowledge))


def suggest_html() -> str:
    return "I'm not sure which you mean. <b>Did you mean:</b>"


# -- JSON ----------------------------------------------------------------------------------------
def source_dict(cited: Cited) -> dict[str, object]:
    s = cited.source
    return {
        "id": s.id,
        "outlet": s.outlet,
        "republished_by": s.republished_by,
        "headline": s.headline,
        "standfirst": s.standfirst,
        "author": s.author,
        "affiliation": s.affiliation,
        "date": s.date.isoformat(),
        "url": s.url,
        "quote": cited.quote,
        "inferred": list(s.inferred),
    }


def result_dict(result: Result, knowledge: Knowledge) -> dict[str, object]:
    entry = result.entry
    answer = (
        entry.answer if entry else (result.reply if result.status is Status.SMALLTALK else None)
    )
    return {
        "question": result.question,
        "status": str(result.status),
        "understood": understood(entry) if entry else None,
        "answer": answer,
        "entry_id": entry.id if entry else None,
        "score": round(result.score, 1),
        "sources": [source_dict(c) for c in citations(entry, knowledge)] if entry else [],
        "suggestions": [
            {"entry_id": c.entry.id, "question": c.entry.questions[0], "score": round(c.score, 1)}
            for c in result.candidates
        ]
        if result.status is Status.SUGGEST
        else [],
        "parts": [
            {"entry_id": e.id, "understood": understood(e), "answer": e.answer}
            for e in result.entries[1:]
        ],
        "not_what_you_asked": [
            {"entry_id": c.entry.id, "question": c.entry.questions[0]} for c in result.alternatives
        ],
        "why": why_dict(result),
    }


def why_dict(result: Result) -> dict[str, object]:
    """What decided, for maintainers reading `ask --json`: the rule, the best and runner-up
    entries' scores, and the topic the articles lack when that declined it."""
    ranked = [{"entry_id": c.entry.id, "score": round(c.score, 1)} for c in result.candidates[:2]]
    return {
        "reason": result.reason or str(result.status),
        "best": ranked[0] if ranked else None,
        "runner_up": ranked[1] if len(ranked) > 1 else None,
        "not_covered": result.about if result.reason == "not-covered" else None,
        "beyond": result.about if result.reason == BEYOND else None,
    }
