"""Inline keyboards and the callback data behind them.

Callback data is at most 64 bytes; entry and topic ids are slugs of at most 40, so
"e:<id>", "t:<id>" and "v:<id>:<+|->" always fit."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Candidate
from bot.engine.models import Entry
from bot.text import shorten

ENTRY, TOPIC, MORE, VOTE, TOPICS = "e", "t", "m", "v", "topics"
BUTTON_TEXT = 60
INLINE_QUERY = 256  # Telegram's limit on an inline query's text


def short(text: str, limit: int = BUTTON_TEXT) -> str:
    return shorten(text, limit)


def parse(data: str) -> tuple[str, list[str]]:
    kind, _, rest = data.partition(":")
    return kind, rest.split(":") if rest else []


def share_query(entry: Entry) -> str:
    """The entry's first phrasing that fits an inline query, else its id (both are answered
    with this entry alone)."""
    return next((q for q in entry.questions if len(q) <= INLINE_QUERY), entry.id)


def share_button(entry: Entry) -> InlineKeyboardButton:
    """Opens the chat picker with `@bot <the entry's first question>` typed in; the inline
    mode answers exactly that phrasing with this entry alone (FaqService.search)."""
    return InlineKeyboardButton(
        "↗ Share",
        switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat(
            query=share_query(entry),
            allow_user_chats=True,
            allow_group_chats=True,
            allow_channel_chats=True,
        ),
    )


NOT_WHAT_YOU_ASKED = "Not what you asked?"
CLOSEST = "Closest I have:"


def not_what_you_asked(alternatives: Sequence[Entry]) -> list[list[InlineKeyboardButton]]:
    """One row per entry close behind the answer: the right one is one tap away when the
    matcher read the question as another (the answer opens with what it understood)."""
    return [
        [
            InlineKeyboardButton(
                short(f"{NOT_WHAT_YOU_ASKED} {e.questions[0]}"), callback_data=f"{ENTRY}:{e.id}"
            )
        ]
        for e in alternatives
    ]


def offered_in(markup: InlineKeyboardMarkup | None, knowledge: Knowledge) -> list[Entry]:
    """The "Not what you asked?" entries a message's keyboard offers: kept when its votes go
    (a 👎 is often the reader saying just that)."""
    rows = markup.inline_keyboard if markup else ()
    found = []
    for row in rows:
        for button in row:
            kind, args = parse(str(button.callback_data or ""))
            offered = kind == ENTRY and args and button.text.startswith(NOT_WHAT_YOU_ASKED)
            if offered and args[0] in knowledge.entries:
                found.append(knowledge.entries[args[0]])
    return found


def answer_keyboard(
    entry: Entry,
    next_questions: Sequence[Entry] = (),
    *,
    voted: bool = False,
    alternatives: Sequence[Entry] = (),
) -> InlineKeyboardMarkup:
    """ "Not what you asked?" first when another entry was close behind, then votes and Share,
    then a button per follow-up question (pressed, it answers in a new message), then the
    rest of the topic. Once voted, the votes go and the rest stays."""
    votes = [
        InlineKeyboardButton("👍", callback_data=f"{VOTE}:{entry.id}:+"),
        InlineKeyboardButton("👎", callback_data=f"{VOTE}:{entry.id}:-"),
    ]
    follow = [e for e in next_questions if e not in alternatives]
    return InlineKeyboardMarkup(
        [
            *not_what_you_asked(alternatives),
            [*([] if voted else votes), share_button(entry)],
            *(
                [
                    InlineKeyboardButton(
                        f"❓ {short(e.questions[0])}", callback_data=f"{ENTRY}:{e.id}"
                    )
                ]
                for e in follow
            ),
            [InlineKeyboardButton("More on this topic", callback_data=f"{MORE}:{entry.topic}")],
        ]
    )


def suggestions_keyboard(candidates: tuple[Candidate, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    short(c.entry.questions[0]), callback_data=f"{ENTRY}:{c.entry.id}"
                )
            ]
            for c in candidates
        ]
    )


def declined_keyboard(knowledge: Knowledge, closest: Sequence[Entry] = ()) -> InlineKeyboardMarkup:
    """A decline's buttons: the closest entries when one came near an answer (if the bot
    misjudged the question, the right answer is one tap away), then every topic."""
    rows = [
        [
            InlineKeyboardButton(
                short(f"{CLOSEST} {e.questions[0]}"), callback_data=f"{ENTRY}:{e.id}"
            )
        ]
        for e in closest
    ]
    return InlineKeyboardMarkup([*rows, *topics_keyboard(knowledge).inline_keyboard])


def topics_keyboard(knowledge: Knowledge) -> InlineKeyboardMarkup:
    topics = list(knowledge.topics.values())
    rows = [
        [
            InlineKeyboardButton(short(t.title, 30), callback_data=f"{TOPIC}:{t.id}")
            for t in topics[i : i + 2]
        ]
        for i in range(0, len(topics), 2)
    ]
    return InlineKeyboardMarkup(rows)


def topic_keyboard(knowledge: Knowledge, topic_id: str) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(short(e.questions[0]), callback_data=f"{ENTRY}:{e.id}")]
        for e in knowledge.topic_entries(topic_id)
    ]
    rows.append([InlineKeyboardButton("« All topics", callback_data=TOPICS)])
    return InlineKeyboardMarkup(rows)


def ask_more_keyboard(bot_username: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ask the bot a question", url=f"https://t.me/{bot_username}")]]
    )
