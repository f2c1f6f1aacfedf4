"""Question analysis: which part of a message is the question, and what kind of answer it wants.

People paste a story before they ask ("My uncle says the camps are propaganda… So roughly how
many people are locked up?"). Every word of the story weighs as much as the question's own in a
bag of words, so the story drowns it. Here a message is split into sentences and each is marked
as the question (its focus) or context; the matcher lets context count, but less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: . ! ? (and runs of them) or a line break; a colon or semicolon ends a clause
# when what follows it is itself a question ("…argument: roughly how many…?").
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|(?<=[:;])\s+(?=\S[^.!?]*\?)")
_OPENERS = frozenset(
    """what what's whats who who's whos whom whose when where where's which why how how's
    is are was were do does did can could should would will has have had wat wht hw wen y
    any tell explain describe list name""".split()
)
# Words that introduce the question inside a longer sentence: "I'd like to know how many…".
_ASKING = re.compile(
    r"\b(?:wondering|want(?:ed)? to know|like to know|need to know|curious|my question is|"
    r"question is|can you tell me|could you tell me|tell me|explain|so)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Part:
    text: str
    focus: bool


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def is_question(sentence: str) -> bool:
    """Ends with a question mark, or opens like a question (people skip the mark)."""
    if sentence.rstrip().endswith("?"):
        return True
    first = _WORD.search(sentence.lower())
    return bool(first) and first.group(0) in _OPENERS


def parts(text: str) -> list[Part]:
    """The message's sentences, each marked focus or context. A message of one sentence, or
    one with no question in it, is all focus: there is nothing to tell apart."""
    found = sentences(text)
    if len(found) <= 1:
        return [Part(text, True)]
    asked = [is_question(s) for s in found]
    if not any(asked):
        # A statement-shaped request ("I'd like to know the year the law passed."): the
        # sentence that asks, else the last one, which is where people put the point.
        asking = [i for i, s in enumerate(found) if _ASKING.search(s)]
        chosen = asking[-1] if asking else len(found) - 1
        asked = [i == chosen for i in range(len(found))]
    return [Part(s, a) for s, a in zip(found, asked, strict=True)]


def focus_text(text: str) -> str:
    return " ".join(p.text for p in parts(text) if p.focus)
