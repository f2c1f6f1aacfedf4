"""The FAQ as data (JSON) or as a document (Markdown) for people who never open Telegram."""

from __future__ import annotations

import json

from bot.engine import render
from bot.engine.knowledge import Knowledge


def as_json(knowledge: Knowledge) -> str:
    sources = [
        {**s.model_dump(mode="json"), "text_file": f"sources/{s.file}"}
        for s in knowledge.sources.values()
    ]
    entries = [
        {
            "id": e.id,
            "topic": e.topic,
            "questions": list(e.questions),
            "answer": e.answer,
            "citations": [c.model_dump() for c in e.citations],
        }
        for e in knowledge.entries.values()
    ]
    return json.dumps({"sources": sources, "entries": entries}, ensure_ascii=False, indent=2)


def deep_link(bot_username: str, entry_id: str) -> str:
    """The link that opens the bot on this entry's answer (Telegram's /start parameter)."""
    return f"https://t.me/{bot_username}?start={entry_id}"


def as_markdown(knowledge: Knowledge, bot_username: str | None = None) -> str:
    """The FAQ as a document; with the bot's username, each entry links to its answer in the
    bot, so a reader can forward it with its sources."""
    out = ["# North Korea, human rights and the Trump–Kim summits: FAQ", ""]
    out.append("Every answer rests on the quoted passages of these articles:")
    out.append("")
    for s in knowledge.sources.values():
        out.append(f"- **{s.id}**: [{render.source_line(s)}]({s.url})")
    for topic in knowledge.topics.values():
        out += ["", f"## {topic.title}", "", topic.summary]
        for entry in knowledge.topic_entries(topic.id):
            out += ["", f"### {entry.questions[0]}", "", entry.answer, ""]
            if bot_username:
                out += [f"[Ask the bot]({deep_link(bot_username, entry.id)})", ""]
            for cited in render.citations(entry, knowledge):
                source = cited.source
                out.append(
                    f"> “{cited.quote}” — {render.credit(source)}, {render.human_date(source)}"
                )
                out.append(">")
            out.pop()
    return "\n".join(out) + "\n"
