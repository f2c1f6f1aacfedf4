"""One decision per question: answer, ask which one ("did you mean"), decline, or chat.

The scoring lives in bot.engine.index (four signals over each entry's weighted vocabulary);
here the question is cleaned and typo-corrected (against the FAQ's own words, never turning a
real English word into one), and its scores become one decision. The thresholds that do that
were measured on tests/eval.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.engine import smalltalk
from bot.engine.index import Index, Item, Weights
from bot.engine.knowledge import Knowledge
from bot.engine.models import Entry
from bot.engine.normalize import BASE_STOPWORDS, english_words, stem, words
from bot.text import clean_input

MAX_QUESTION = 1000
_OFFERED = ("off-topic", "unknown", "unasked")  # declines that offer the closest entries
BEYOND = "beyond"  # Result.reason: a question the articles cannot answer by their nature


class Status(StrEnum):
    ANSWERED = "answered"
    SUGGEST = "suggest"
    DECLINED = "declined"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class Thresholds:
    """Measured on tests/eval (see README): change them with `python -m bot eval` at hand."""

    answer_short: float = 45.0  # best score needed to answer a short question
    answer_long: float = 35.0  # ... and a long one, whose extra words dilute every score
    short: int = 8  # content words up to which a question counts as short
    coverage: float = 0.20  # least share of the question's subject words the answer covers
    unknown_short: int = 5  # a question this short with a word the FAQ never uses is declined
    vague: int = 2  # content words up to which a question may be vague ("sanctions?")
    broad: int = 8  # it is, when each of its words is asked about in this many entries
    margin: float = 4.0  # for a vague question, a runner-up this close makes it "did you mean"
    tie: float = 0.5  # for any question, a runner-up this close does
    close: float = 10.0  # candidates within this of the best are offered together
    outside: float = 45.0  # a topic the articles lack scoring this much can decline a question
    outside_margin: float = 2.0  # ... when it scores at least this much above the best entry
    offer: float = 45.0  # a declined question's closest entries scoring this are offered
    offer_named: float = 50.0  # ... and, declined as not covered, the entry on its subject


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Result:
    question: str
    status: Status
    score: float = 0.0
    entry: Entry | None = None
    candidates: tuple[Candidate, ...] = ()
    reply: str | None = None
    reason: str = ""
    about: str = ""  # for reason "not-covered": what the articles do not cover
    # An answer's runners-up close behind it: offered under it ("Not what you asked?").
    alternatives: tuple[Candidate, ...] = ()
    # A multi-part question's further answered parts, each a Result of its own.
    parts: tuple[Result, ...] = ()

    @property
    def best(self) -> Candidate | None:
        """The closest entry even when declined, for the maintainers' report."""
        return self.candidates[0] if self.candidates else None

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry an answer shows: its own, then each further part's."""
        if self.status is not Status.ANSWERED or self.entry is None:
            return ()
        return (self.entry, *(p.entry for p in self.parts if p.entry is not None))


_NAMING = 2  # a word asked with this few entries names their subject (a person, a place)
_TELLING = 20  # a word asked with fewer entries than this tells a topic apart ("north": no)
_ANSWER_WEIGHT = 0.3  # a word that appears only in an entry's answer
_TITLE_WEIGHT = 0.6  # a word of the entry's topic title
_WORD = re.compile(r"[a-z0-9]+")


MAX_PARTS = 3  # questions answered in one reply: more would not fit Telegram's 4096
_CLAUSE_END = re.compile(r"(?<=\?)\s+|(?<=[.!])\s+(?=[A-Z])")
_JOINED = re.compile(
    r"(?:,|;|&|\band\b|\balso\b)+\s+(?=(?:where|when|who|what|why|how|which|did|does|do|is|"
    r"was|were|are|has|have|had|can|could)\b)",
    re.IGNORECASE,
)
_ASKS = re.compile(
    r"^(where|when|who|whom|whose|what|why|how|which|did|does|do|is|was|were|are|has|have|had|"
    r"can|could|would|will)\b",
    re.IGNORECASE,
)


# What a short question asks for, by its opening words, and the words of a phrasing that asks
# for the same: an entry none of whose phrasings asks "why" does not give reasons, however
# well the rest of the question matches ("why does North Korea restrict the internet?").
_SHORT_ASK = 12  # words: a longer message's opening word is often not its question
_FILLER = r"(?:(?:so|but|and|ok|okay|hey|hi|hello|pls|please|wait|also|then|um|uh)\W+)*"
_WANTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    kind: (re.compile(rf"^\W*{_FILLER}(?:{opening})\b", re.I), re.compile(rf"\b(?:{asks})\b", re.I))
    for kind, opening, asks in (
        ("why", r"why|y", r"why|reasons?|purpose"),
        ("when", r"when|wen|(?:what|which) (?:year|date|month|day)", r"when|year|date|month|day"),
        ("who", r"who|whom|whose", r"who|whom|whose|names?"),
        ("where", r"where", r"where|places?|locations?|city|country"),
        ("how many", r"how (?:many|much)", r"how (?:many|much)|numbers?|figures?|estimates?"),
    )
}


def wants(text: str) -> str | None:
    """What a short question opens by asking ("why", "when", "who", "where", "how many"),
    or None."""
    if len(_WORD.findall(text.lower())) > _SHORT_ASK:
        return None
    return next((kind for kind, (opening, _) in _WANTS.items() if opening.match(text)), None)


def asks(entry: Entry, kind: str) -> bool:
    """Whether one of the entry's phrasings asks what `wants` found ("why", "who"…)."""
    return any(_WANTS[kind][1].search(q) for q in entry.questions)


_REFERS_BACK = re.compile(r"\b(it|its|that|this|they|them|their|he|him|his|she|her|there)\b", re.I)


def question_clauses(text: str) -> list[str]:
    """The questions of a message that holds more than one, each with at least two words:
    clauses ending in "?" and clauses joined by "and"/","/"&" that open with a question word.
    Empty for a single question (the usual case, which costs nothing more)."""
    pieces = [
        piece.strip(" ,;&-")
        for sentence in _CLAUSE_END.split(text.strip())
        for piece in _JOINED.split(sentence)
    ]
    asked = [
        p
        for p in pieces
        if len(_WORD.findall(p.lower())) >= 2 and (p.endswith("?") or _ASKS.match(p))
    ]
    return asked if len(pieces) > 1 else []


def _is_foreign(text: str) -> bool:
    """Letters, but none of the Latin alphabet (Korean, Chinese, Russian): asking such a user
    to "type a question" misleads them; they need to hear the sources are English."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and not any(c.isascii() for c in letters)


class Matcher:
    """Immutable once built; build a new one when the knowledge changes."""

    def __init__(
        self,
        knowledge: Knowledge,
        thresholds: Thresholds | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.thresholds = thresholds or Thresholds()
        self.entries: list[Entry] = list(knowledge.entries.values())
        self._positions = {entry.id: n for n, entry in enumerate(self.entries)}
        items = []
        for entry in self.entries:
            topic = knowledge.topics.get(entry.topic)
            title = topic.title if topic else ""
            context = [(entry.answer, _ANSWER_WEIGHT), (title, _TITLE_WEIGHT)]
            items.append(Item(entry.id, [*entry.questions, *entry.keywords], context))
        self.index = Index(items, knowledge.normalizer, weights, fuzzy_everywhere=False)
        # What the articles do not cover, scored on the entries' scale (their IDF).
        self.outside_topics = list(knowledge.outside.values())
        self.outside = Index(
            [Item(t.id, t.questions) for t in self.outside_topics],
            knowledge.normalizer,
            weights,
            idf=self.index.idf,
            fuzzy_everywhere=False,
        )
        # Typos are corrected on whole words, before stemming mangles them ("mnay" -> "many").
        self.known_words = frozenset(w for t in self._texts() for w in words(t))
        self.known_stems = frozenset(stem(w) for w in self.known_words)
        # Real words the FAQ lacks are not typos: "kids" must not become "kims".
        self.english = english_words()
        # Misspelt words the FAQ lacks are corrected too ("univeristy"), so that they decline;
        # only real words of the not-covered list, whose phrasings carry typos on purpose.
        outside_words = {
            w
            for topic in self.outside_topics
            for q in topic.questions
            for w in words(q)
            if w in self.english
        }
        self.vocabulary: dict[str, list[str]] = defaultdict(list)
        for w in sorted(self.known_words | outside_words):
            if len(w) >= 4 and w.isalpha():
                self.vocabulary[w[0]].append(w)
        self._correct = lru_cache(maxsize=8192)(self._correct_uncached)

    def answer_for(self, entry: Entry) -> Result:
        """A user picked this entry (a button, a number): answer it as asked."""
        return Result(entry.questions[0], Status.ANSWERED, 100.0, entry, (Candidate(entry, 100.0),))

    # -- the decision -------------------------------------------------------------------------
    def match(self, question: str) -> Result:
        text = clean_input(question or "", MAX_QUESTION)
        plain = " ".join(_WORD.findall(text.lower()))
        if not plain:
            reason = "not-english" if _is_foreign(text) else "empty"
            return Result(text, Status.DECLINED, reason=reason)
        if smalltalk.looks_like_injection(text):
            return Result(text, Status.DECLINED, reason="injection")
        corrected = self.corrected(text)
        intent = smalltalk.smalltalk_intent(plain)
        if intent:
            return Result(text, Status.SMALLTALK, reply=smalltalk.reply_for(intent), reason=intent)
        beyond = smalltalk.beyond_articles(f"{plain} {' '.join(corrected)}") or (
            "addressed" if smalltalk.addressed(text) else None
        )
        if beyond:  # an opinion, a prediction, advice: no article answers it, whatever it names
            return self._beyond(text, corrected, beyond)
        whole = self._match_words(text, corrected)
        clauses = question_clauses(text)
        if clauses:
            whole = self._combine(whole, [self._match_words(c, self.corrected(c)) for c in clauses])
        return self._offer(whole)

    def _beyond(self, text: str, corrected: list[str], kind: str) -> Result:
        """Declined by nature. A question put to a person in the news ("Chairman Kim, are you
        discussing human rights?") may still be one an entry answers from the articles' side
        (whether it came up): that entry is offered when it scores as an answer would."""
        declined = Result(text, Status.DECLINED, reason=BEYOND, about=kind)
        if kind not in smalltalk.OFFERING:
            return declined
        found = self._match_words(text, corrected)
        top = found.best
        if top is None or top.score < self.thresholds.offer_named or found.reason == "not-covered":
            return declined
        return replace(declined, score=top.score, candidates=found.candidates, alternatives=(top,))

    def _offer(self, result: Result) -> Result:
        """A decline still offers the closest entries when they come near an answer: the
        reader is told the articles don't cover the question, and, if the bot misjudged it,
        the entry is one tap away instead of lost."""
        if result.status is not Status.DECLINED or not result.candidates:
            return result
        th = self.thresholds
        top = result.candidates[0]
        if result.reason == "not-covered":
            # The articles lack what was asked; the entry on the same person or thing is
            # offered ("how did Ji Sung-ho lose his leg?": "Who is Ji Sung-ho?"), nothing else.
            same = top.score >= th.offer_named and self._same_subject(result.question, top.entry)
            return replace(result, alternatives=(top,)) if same else result
        if result.reason not in _OFFERED:
            return result
        offers = tuple(
            c
            for c in result.candidates[:2]
            if c.score >= th.offer and c.score > top.score - th.close
        )
        return replace(result, alternatives=offers) if offers else result

    def _same_subject(self, question: str, entry: Entry) -> bool:
        """The question names what the entry is about: a word asked with at most two entries
        (a name: Buergenthal, Ji Sung-ho, Chongjin) is in both."""
        position = self._positions[entry.id]
        asked = {
            token
            for pos in self.index.item_phrasings[position]
            for token in self.index.phrasing_tokens[pos]
            if self.index.breadth.get(token, 0) <= _NAMING
        }
        return not asked.isdisjoint(self.tokens(question))

    def _match_words(self, text: str, corrected: list[str]) -> Result:
        """One question's decision from its typo-corrected words."""
        tokens = self.knowledge.normalizer.tokens(" ".join(corrected))
        scored = self.rank(" ".join(corrected), tokens)
        if scored:
            unknown = [w for w in corrected if self._is_unknown(w)]
            result = self._decide(text, scored, set(tokens), unknown)
        else:
            result = Result(text, Status.DECLINED, reason="off-topic")
        return self._not_covered(result, " ".join(corrected), tokens)

    def _combine(self, whole: Result, parts: list[Result]) -> Result:
        """A message of several questions (or a story and a question) read clause by clause:
        a clause an entry answers is not lost to the rest's words (a tag's "bold?", a story
        the FAQ never mentions), and a second question answered by another entry is answered
        too ("where was the second summit and did human rights come up?")."""
        answered = [
            p
            for n, p in enumerate(parts)
            if p.status is Status.ANSWERED
            and p.entry is not None
            and not (n and _REFERS_BACK.search(p.question))  # "who paid for it?": for what?
        ]
        uncovered = any(p.reason == "not-covered" for p in parts)
        if whole.status is Status.ANSWERED and whole.entry is not None:
            main = whole
        elif answered and not (whole.reason == "not-covered" and uncovered):
            main = replace(answered[0], question=whole.question)
            answered = answered[1:]
        else:
            return whole
        extra: list[Result] = []
        for part in answered:
            shown = {e.id for e in (main.entry, *(p.entry for p in extra))}
            if part.entry.id not in shown and len(extra) < MAX_PARTS - 1:
                extra.append(part)
        return replace(main, parts=tuple(extra)) if extra else main

    def _not_covered(self, result: Result, text: str, tokens: list[str]) -> Result:
        """A question closer to a topic the articles lack than to any entry is declined by
        name: "how old is Kim?" must not get the nearest entry that mentions Kim."""
        th = self.thresholds
        top = next(iter(self.outside.rank(text, tokens, limit=1)), None)
        if top is None or top.score < th.outside:
            return result
        weighed = result.status is not Status.DECLINED or result.reason == "unasked"
        if weighed and top.score < result.score + th.outside_margin:
            return result  # the entry is nearer; an unasked detail still offers it
        about = self.outside_topics[top.item].about
        return Result(
            result.question,
            Status.DECLINED,
            result.score,
            candidates=result.candidates,
            reason="not-covered",
            about=about if self._names(tokens, about) else "",
        )

    def _names(self, tokens: list[str], about: str) -> bool:
        """Whether a refusal may name this topic: only when the question shares a telling word
        with it. "what's the weather in Pyongyang?" declined near "the state of US-North Korea
        relations" must not be told that is what it asked; such a refusal names no topic."""
        asked = set(tokens)
        return any(
            t in asked and self.index.breadth.get(t, 0) < _TELLING
            for t in self.knowledge.normalizer.tokens(about)
        )

    def _decide(
        self, text: str, scored: list[tuple[Candidate, float]], tokens: set[str], unknown: list[str]
    ) -> Result:
        th = self.thresholds
        size = len(tokens)
        best, coverage = scored[0]
        candidates = tuple(c for c, _ in scored[:3])
        needed = th.answer_short if size <= th.short else th.answer_long
        if coverage < th.coverage or best.score < needed:
            return Result(
                text, Status.DECLINED, best.score, candidates=candidates, reason="off-topic"
            )
        if unknown and size <= th.unknown_short:
            # "how many warheads ...": a short question whose key word the FAQ never uses
            # is about something else, however well its other words match.
            return Result(
                text, Status.DECLINED, best.score, candidates=candidates, reason="unknown"
            )
        close = tuple(c for c, _ in scored[:3] if c.score > best.score - th.close)
        kind = wants(text)
        plain = " ".join(_WORD.findall(text.lower()))
        if kind and not asks(best.entry, kind) and not smalltalk.attributed(plain):
            # A close runner-up that does ask it is the one meant ("when did the UN
            # investigate…?": the inquiry, not the expert refused entry).
            fits = [
                c for c in close[1:] if asks(c.entry, kind) and c.score > best.score - th.margin
            ]
            if fits:
                chosen = fits[0]
                others = tuple(c for c in close if c is not chosen)
                return Result(
                    text,
                    Status.ANSWERED,
                    chosen.score,
                    chosen.entry,
                    candidates,
                    alternatives=others,
                )
            # Further behind, one that asks it is still a choice: "my sources don't say when"
            # would be false while an entry says when ("when did trump and kim meet?").
            asked = tuple(c for c in close[1:] if asks(c.entry, kind))
            if asked:
                rest = tuple(c for c in close if c not in asked)
                return Result(
                    text, Status.SUGGEST, best.score, candidates=(*asked, *rest), reason="close"
                )
            # "who flew to Pyongyang to bring Warmbier home?": the entry on his return says
            # when and how, not who; a detail it never answers is declined, the entry offered.
            return Result(
                text,
                Status.DECLINED,
                best.score,
                candidates=candidates,
                reason="unasked",
                about=kind,
            )
        if best.entry.id in self.index.named.get(frozenset(tokens), ()):
            return Result(text, Status.ANSWERED, best.score, best.entry, candidates)
        runner_up = scored[1][0].score if len(scored) > 1 else 0.0
        if size <= th.vague and all(self.index.breadth.get(t, 0) >= th.broad for t in tokens):
            # One broad word fits many entries equally well: ask rather than guess.
            return Result(text, Status.SUGGEST, best.score, candidates=candidates, reason="close")
        margin = th.margin if size <= th.vague else th.tie
        if best.score - runner_up >= margin or len(close) == 1:
            return Result(
                text, Status.ANSWERED, best.score, best.entry, candidates, alternatives=close[1:]
            )
        return Result(text, Status.SUGGEST, best.score, candidates=close, reason="close")

    # -- scoring ------------------------------------------------------------------------------
    def rank(self, text: str, tokens: list[str], limit: int = 10) -> list[tuple[Candidate, float]]:
        """(candidate, coverage) pairs, best first; empty when nothing on the subject matched."""
        return [
            (Candidate(self.entries[s.item], s.score), s.coverage)
            for s in self.index.rank(text, tokens, limit)
        ]

    def corrected(self, text: str) -> list[str]:
        """The question's words with typos corrected, before stemming and synonyms."""
        return [self._correct(w) for w in words(text)]

    def tokens(self, text: str) -> list[str]:
        """The question's content tokens, typos corrected first."""
        return self.knowledge.normalizer.tokens(" ".join(self.corrected(text)))

    def _is_unknown(self, word: str) -> bool:
        """A real word (not a number, not a stopword) that no FAQ text uses."""
        return (
            stem(word) not in self.known_stems
            and word.isalpha()
            and len(word) >= 3
            and stem(word) not in self.knowledge.normalizer.stopwords
        )

    def _texts(self) -> list[str]:
        """Every text whose words the matcher knows: FAQ wording, synonyms, stopwords."""
        knowledge = self.knowledge
        texts = [t.title for t in knowledge.topics.values()]
        for entry in self.entries:
            texts += [*entry.questions, *entry.keywords, entry.answer]
        for canonical, variants in knowledge.synonyms.synonyms.items():
            texts += [canonical, *variants]
        texts += [*BASE_STOPWORDS, *knowledge.synonyms.stopwords]
        return texts

    def _correct_uncached(self, word: str) -> str:
        """A typo becomes the known word one edit away (two for long words) that starts with
        the same letter: people rarely mistype the first letter. A word of the English word
        list is never a typo: without that rule real words the FAQ lacks turn into ones it has
        (kids -> kims, enjoy -> envoy, stealing -> speaking) and off-subject questions get
        answered. Three-letter words are left alone: too many are one edit apart."""
        if (
            word in self.known_words
            or len(word) < 4
            or not word.isalpha()
            or stem(word) in self.known_stems  # "tests" is a form of "test", not a typo
            or word in self.english  # "enjoy" is a word, not a typo of "envoy"
        ):
            return word
        max_edits = 2 if len(word) >= 8 else 1
        choices = self.vocabulary.get(word[0], [])
        hit = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=max_edits)
        return hit[0] if hit else word
