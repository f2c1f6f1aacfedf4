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
MAIN_QUESTION_LIMIT = 80  # one line above the answer on a phone
QUOTE_MIN_WORDS = 6  # about a clause: fewer words rarely carry a claim on their own
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|\*\*|__|\[[^\]]+\]\(")
# What Telegram accepts after ?start= in a deep link (t.me/<bot>?start=<entry id>).
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True
    )


class Source(Strict):
    """What is known of one article, no surer than the evidence: a field the text does not
    show is left empty (None), and one the evidence only points to is listed in `inferred`.
    The outlet (where it was published) and the author's affiliation (who wrote it) are kept
    apart, so that an op-ed never reads as the outlet's or the organisation's own statement."""

    id: Slug
    file: str
    outlet: str
    republished_by: str | None = None
    headline: str | None = None  # None: the headline is unknown (not in the text)
    standfirst: str | None = None
    author: str | None = None  # None: no byline in the text and none determined
    affiliation: str | None = None  # the author's employer when the piece was written
    date: dt.date
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    inferred: list[Literal["author", "affiliation", "date", "headline"]] = []

    @model_validator(mode="after")
    def _inferred_fields_have_values(self) -> Source:
        empty = [name for name in self.inferred if getattr(self, name) is None]
        if empty:
            raise ValueError(
                f"source {self.id!r}: {', '.join(empty)} listed as inferred but empty; "
                "an unknown field is left out, not inferred"
            )
        if self.headline is None and self.standfirst is None:
            raise ValueError(f"source {self.id!r} needs a headline or, if unknown, its standfirst")
        return self


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
    # A short quote that only says who said something ("Enos ... told me"), not what.
    attribution: bool = False

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

    @model_validator(mode="after")
    def _quote_carries_a_claim(self) -> Citation:
        """A fragment ("his father told us") proves nothing to a reader who opens it."""
        words = len(self.quote.split())
        if words < QUOTE_MIN_WORDS and not self.attribution:
            raise ValueError(
                f"quote {self.quote!r} is {words} words: cite the sentence that carries the "
                "claim, or mark the citation `attribution: true` if it only says who said it"
            )
        return self


_MONTH_YEAR = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December) \d{4}\b"
)
# What makes a month honest for a source dated by inference: a hedge or a day before it
# (a day means a confirmed date of another source), or an event after it that the text shows.
_HEDGED_BEFORE = re.compile(r"(?:\b(?:about|around|approximately|circa|roughly)|\d) $")
_EVENT_AFTER = re.compile(r"^ (?:\w+ )?summit\b")


def unhedged_months(answer: str, months: set[str]) -> list[str]:
    """Each mention of one of `months` ("February 2019") stated as a plain date."""
    found = []
    for match in _MONTH_YEAR.finditer(answer):
        if match.group() not in months:
            continue
        if _HEDGED_BEFORE.search(answer[: match.start()]):
            continue
        if _EVENT_AFTER.match(answer[match.end() :]):
            continue
        found.append(match.group())
    return found


_TITLE = (
    r"(?:director|manager|ambassador|envoy|rapporteur|expert|adviser|advisor|officer"
    r"|spokesperson|commissioner|secretary|chair)\b"
)
_WORDS = r"(?:[\w’'.-]+\s+){0,5}?"
_PRESENT_TITLES = [
    # "Singh is associate international justice director"
    re.compile(rf"\b(?:is|are)\s+(?:an?\s+|the\s+)?{_WORDS}{_TITLE}", re.IGNORECASE),
    # "Olivia Enos, a North Korea expert at ..."; "Quintana, the UN expert on ..."
    re.compile(rf",\s+(?:an?|the)\s+{_WORDS}{_TITLE}", re.IGNORECASE),
    # "Trump's ambassador to the UN"
    re.compile(rf"[’']s\s+{_WORDS}{_TITLE}\s+(?:to|for|at|on|of)\b", re.IGNORECASE),
]
_PAST = re.compile(r"\b(?:then|former|formerly|at the time|was|were|had been)\b", re.IGNORECASE)


def present_tense_titles(answer: str) -> list[str]:
    """Job titles stated as if still held. The articles date from 2018-19: a title is true of
    then, and an answer read years later should say "then" (or use the past tense)."""
    found = []
    for pattern in _PRESENT_TITLES:
        for match in pattern.finditer(answer):
            clause = max(answer.rfind(mark, 0, match.start()) for mark in ",;.:(")
            if not _PAST.search(answer[clause + 1 : match.end()]):
                found.append(match.group().lstrip(", "))
    return found


# -- answers that stay true whichever question routes to them (issues 20 and 22) -------------
# The matcher sends many phrasings to one answer, so an answer cannot lean on the wording of
# one of them: "Yes." is false after "Have sanctions harmed the people?", "Not all of them"
# means nothing after "sanctions". An answer opens with a statement that names its subject.
_BOUND_OPENING = re.compile(
    r"^(?:yes|no|nope|yeah|yep|not|partly|partially|correct|incorrect|true|false|right|wrong"
    r"|indeed|absolutely|certainly|definitely|both|neither|maybe|probably|it|this|that|these"
    r"|those|they|he|she|so|also|likewise)\b",
    re.IGNORECASE,
)


def phrasing_bound_opening(answer: str) -> str | None:
    """The answer's first word when it only makes sense as the reply to one phrasing."""
    match = _BOUND_OPENING.match(answer)
    return match.group() if match else None


# "the same summit" / "that summit" points back: a summit must be named before it, or a
# reader cannot tell which of the two (Singapore, June 2018; Vietnam, February 2019) it is.
_BACK_REFERENCE = re.compile(r"\b(?:the same|that|this) (summit|meeting)\b", re.IGNORECASE)
_NAMED_SUMMIT = re.compile(
    r"\b(?:Singapore|Hanoi|Vietnam|first|second)\b(?:\s+[\w–-]+){0,2}?\s+(?:summit|meeting)\b"
    r"|\b(?:summit|meeting)\s+(?:in|at)\s+(?:Singapore|Hanoi|Vietnam)\b",
    re.IGNORECASE,
)


def unnamed_back_references(answer: str) -> list[str]:
    """Each "the same summit" (or "that summit") with no summit named before it."""
    return [
        match.group()
        for match in _BACK_REFERENCE.finditer(answer)
        if not _NAMED_SUMMIT.search(answer[: match.start()])
    ]


# Every sentence of an answer says whose claim it is: a reporting verb, "according to", a
# source in brackets, or a statement about the articles themselves. Deliberately broad (a
# false alarm would teach maintainers to ignore the check): what it catches is a sentence
# with none of these, like an author's judgement restated as plain fact after the sentence
# that attributed the first part of it.
_ATTRIBUTION = re.compile(
    r"\b(?:according to|wr(?:ote|ites?|iting)|sa(?:id|ys?|ying)|argu(?:ed|es?|ing)|told"
    r"|tells?|call(?:ed|s|ing)?|add(?:ed|s)|not(?:ed|es)|report(?:ed|s|ing)|cit(?:ed|es?|ing)"
    r"|warn(?:ed|s)|urg(?:ed|es?)|describ(?:ed|es?)|conclud(?:ed|es?)|recall(?:ed|s)"
    r"|quot(?:ed|es?|ing)|ask(?:ed|s)|repl(?:ied|ies)|comment(?:ed|s)|sp(?:oke|eaks?)"
    r"|propos(?:ed|es?)|f(?:ound|inds?)|refer(?:red|s)|mention(?:ed|s)?|nam(?:ed|es?)"
    r"|giv(?:en?|es?)|carr(?:ied|ies)|stated|pronounced|acknowledged|admitted"
    r"|plac(?:ed|es)|show(?:ed|n|s)?|disagre(?:ed|es?)|credit(?:ed|s)?|credits?|pledged"
    r"|promised|insist(?:ed|s)?|claim(?:ed|s)?|den(?:ied|ies|y))\b"
    r"|\((?:Vox|HuffPost|TIME|HRW|Human Rights Watch|Amnesty|an op-ed|Just Security)[^)]*\)"
    r"|\b(?:the|its|this|that) (?:articles?|op-ed|dispatch|piece|caption|report|FAQ)s?\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\")]))\s+(?=[A-Z\"])")


def shorten_for_message(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A sentence that only says what someone's job was ("Bencosme was then advocacy manager ...")
# restates a byline; present_tense_titles() reviews its tense.
_BYLINE = re.compile(
    rf"\b(?:is|are|was|were)\s+(?:then\s+)?(?:an?\s+|the\s+)?{_WORDS}{_TITLE}", re.IGNORECASE
)


def unattributed_sentences(answer: str) -> list[str]:
    """The sentences that carry no sign of whose claim they are."""
    return [
        sentence
        for sentence in _SENTENCE_END.split(answer)
        if not _ATTRIBUTION.search(sentence) and not _BYLINE.search(sentence)
    ]


class Entry(Strict):
    id: Slug
    topic: str = ""
    questions: list[Line] = Field(min_length=1)
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20)]
    citations: list[Citation] = Field(min_length=1)
    related: list[Slug] = []
    keywords: list[Line] = []

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_a_deep_link_payload(cls, value: object) -> object:
        """Every entry is shared as t.me/<bot>?start=<id>; Telegram drops a link whose
        payload has other characters or is longer, and the user lands on a bare /start."""
        if isinstance(value, str) and not DEEP_LINK_PAYLOAD.fullmatch(value.strip()):
            raise ValueError(
                f"entry id {value!r} cannot be a deep link (t.me/<bot>?start=<id>): use 1-64 "
                "of the characters A-Z a-z 0-9 _ -"
            )
        return value

    @model_validator(mode="after")
    def _id_starts_with_topic(self) -> Entry:
        """The prefix lets a maintainer find an entry's file from its id alone."""
        if self.topic and not self.id.startswith(f"{self.topic}-"):
            raise ValueError(f"entry id {self.id!r} must start with its topic id '{self.topic}-'")
        return self

    @model_validator(mode="after")
    def _inferred_dates_are_hedged(self, info: ValidationInfo) -> Entry:
        """A month a source is only inferred to date from must not read as a known date."""
        sources: dict[str, Source] | None = (info.context or {}).get("sources")
        if not sources:
            return self
        inferred = {
            c.source: sources[c.source]
            for c in self.citations
            if c.source in sources and "date" in sources[c.source].inferred
        }
        months = {f"{s.date:%B %Y}": s.id for s in inferred.values()}
        found = unhedged_months(self.answer, set(months))
        if found:
            month = found[0]
            raise ValueError(
                f"answer says {month!r} as a date, but the date of source {months[month]!r} is "
                f"only inferred: write 'about {month}', or frame it by what the text shows "
                f"('after the {month} ... summit')"
            )
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

    @field_validator("questions")
    @classmethod
    def _main_question_stands_alone(cls, questions: list[str]) -> list[str]:
        """The first phrasing is shown above the answer as the question being answered, so it
        is a whole, short question ("Who is Olivia Enos?"), not a keyword list ("olivia enos")."""
        main = questions[0]
        if not main.endswith("?") or not main[:1].isupper() or len(main) > MAIN_QUESTION_LIMIT:
            raise ValueError(
                f"the first phrasing {main!r} is shown above the answer: make it a question "
                f"that starts with a capital and ends with '?', at most {MAIN_QUESTION_LIMIT} "
                "characters (move keyword phrasings further down)"
            )
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

    @field_validator("answer")
    @classmethod
    def _answer_stands_alone(cls, answer: str, info: ValidationInfo) -> str:
        """An answer is read after whichever phrasing routed to it, so it must not lean on
        one: no yes/no opening, no "the same summit" before a summit is named, no sentence
        whose claim is nobody's (checked, like the quotes, when the FAQ is loaded against its
        articles: an entry built in code to test rendering has no claims to attribute)."""
        opening = phrasing_bound_opening(answer)
        if opening:
            raise ValueError(
                f"answer opens with {opening!r}, which only makes sense after one phrasing of "
                "the question: open with a statement that names its subject ('US sanctions law "
                "ties lifting the broadest sanctions to human-rights steps: ...')"
            )
        unnamed = unnamed_back_references(answer)
        if unnamed:
            raise ValueError(
                f"answer says {unnamed[0]!r} but names no summit before it: name it "
                "('the June 2018 Singapore summit')"
            )
        checked_against_articles = (info.context or {}).get("source_texts") is not None
        for sentence in unattributed_sentences(answer) if checked_against_articles else []:
            raise ValueError(
                f"sentence {shorten_for_message(sentence)!r} says nothing of whose claim it is: "
                "attribute it ('..., Vox wrote', 'according to ...', 'the op-ed said')"
            )
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
