"""The FAQ schema. Every rule a maintainer can break is a validator here, so one
`python -m bot validate` run names them all."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from rapidfuzz import fuzz

from bot.text import fold

ANSWER_LIMIT = 700
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|\*\*|__|\[[^\]]+\]\(")


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True
    )


class Source(Strict):
    id: Slug
    file: str
    outlet: str
    headline: str
    author: str | None = None
    date: dt.date
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    inferred: list[Literal["author", "date", "headline"]] = []

    def shows(self, name: str) -> str:
        """A field as users may see it: an inferred one says so."""
        value = getattr(self, name)
        value = value.isoformat() if isinstance(value, dt.date) else value
        return f"{value} (inferred)" if name in self.inferred else str(value)


class SourceRegistry(Strict):
    sources: list[Source] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[Source]) -> list[Source]:
        ids = [s.id for s in sources]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate source id(s): {', '.join(dupes)}")
        return sources


def closest_passage(quote: str, text: str) -> str:
    """Where a mistyped quote most likely comes from, to make the error actionable."""
    alignment = fuzz.partial_ratio_alignment(quote, text)
    return text[alignment.dest_start : alignment.dest_end]


class Citation(Strict):
    source: Slug
    quote: Annotated[str, StringConstraints(strip_whitespace=True, min_length=12)]

    @field_validator("source")
    @classmethod
    def _source_is_known(cls, source: str, info: ValidationInfo) -> str:
        texts: dict[str, str] | None = (info.context or {}).get("source_texts")
        if texts is not None and source not in texts:
            raise ValueError(f"unknown source {source!r} (known: {', '.join(sorted(texts))})")
        return source

    @field_validator("quote")
    @classmethod
    def _quote_is_in_source(cls, quote: str, info: ValidationInfo) -> str:
        """A quote must be a passage of its article, punctuation and spacing folded."""
        texts: dict[str, str] | None = (info.context or {}).get("source_texts")
        source = info.data.get("source")
        if texts is None or source not in texts:
            return quote
        if fold(quote) not in texts[source]:
            near = closest_passage(fold(quote), texts[source])
            raise ValueError(
                f"quote is not verbatim in source {source!r}; closest passage: {near!r}"
            )
        return quote


class Entry(Strict):
    id: Slug
    topic: str = ""
    questions: list[Line] = Field(min_length=1)
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20)]
    citations: list[Citation] = Field(min_length=1)
    related: list[Slug] = []
    keywords: list[Line] = []

    @model_validator(mode="after")
    def _id_starts_with_topic(self) -> Entry:
        """The prefix lets a maintainer find an entry's file from its id alone."""
        if self.topic and not self.id.startswith(f"{self.topic}-"):
            raise ValueError(f"entry id {self.id!r} must start with its topic id '{self.topic}-'")
        return self

    @field_validator("questions", mode="before")
    @classmethod
    def _has_questions(cls, value: object) -> object:
        if value is None or value == []:
            raise ValueError("an entry needs at least one phrasing under `questions`")
        return value

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, questions: list[str]) -> list[str]:
        seen: set[str] = set()
        for q in questions:
            key = fold(q).casefold()
            if key in seen:
                raise ValueError(f"phrasing repeated: {q!r}")
            seen.add(key)
        return questions

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, answer: str) -> str:
        answer = fold(answer)
        if len(answer) > ANSWER_LIMIT:
            raise ValueError(f"answer is {len(answer)} characters; the limit is {ANSWER_LIMIT}")
        if _MARKUP.search(answer):
            raise ValueError("answer must be plain text (no HTML or Markdown)")
        return answer


class Topic(Strict):
    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=60)]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]


class FaqFile(Strict):
    topic: Topic
    entries: list[Entry] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _entries_inherit_topic(cls, data: object) -> object:
        """Maintainers write the topic once per file; every entry carries it."""
        if isinstance(data, dict) and isinstance(data.get("topic"), dict):
            topic_id = data["topic"].get("id")
            entries = data.get("entries")
            if isinstance(entries, list):
                data = {
                    **data,
                    "entries": [
                        {**e, "topic": topic_id} if isinstance(e, dict) else e for e in entries
                    ],
                }
        return data


class Synonyms(Strict):
    """Words users type for the same thing; each variant is read as its canonical form."""

    synonyms: dict[Slug | str, list[Line]] = {}
    stopwords: list[Line] = []


class OutsideTopic(Strict):
    """Something people ask that the five articles do not answer ("how old is Kim Jong Un?").
    A question closer to one of these than to any entry is declined by name, rather than
    answered with the nearest entry, which would be a confident wrong answer."""

    id: Slug
    about: Line  # completes "My sources don't cover …"
    questions: list[Line] = Field(min_length=2)

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, questions: list[str]) -> list[str]:
        return Entry._distinct_questions(questions)


class NotCoveredFile(Strict):
    not_covered: list[OutsideTopic] = Field(min_length=1)
