"""Text folding shared by quote checking and matching.

The articles use curly quotes, em dashes and non-breaking spaces; maintainers type straight ones.
Folding both sides the same way is what makes "verbatim" checkable.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]{0,200})?/?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def fold(text: str) -> str:
    """Unicode-normalise punctuation and white space, keeping case (quotes are case-exact)."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def strip_accents(text: str) -> str:
    """Milošević and Milosevic are the same name to someone typing on a phone."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word when one ends in the second half and marked
    with an ellipsis: a user's words quoted back (a 4,000-character argument must not push a
    reply past Telegram's 4,096), a button label, an inline result's title."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def clean_input(text: str, limit: int = 1000) -> str:
    """What a user typed, made safe to process: HTML tags gone (pasted or typed, their letters
    are not words: the "b" of <b> matched "how can we b sure"), folded, control characters gone,
    bounded. A lone "<" ("a<b or not") is no tag and stays."""
    return fold(_TAG.sub(" ", text))[:limit]
