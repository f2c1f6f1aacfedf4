"""One decision per question: answer, ask which one, decline, or chat.

Two signals, both precomputed at load:
- subject coverage: how much of the question's weighted vocabulary an entry accounts for
  (IDF weights, typos corrected against the FAQ's own vocabulary with rapidfuzz), which keeps
  off-subject questions with a stray on-subject word from being answered;
- phrasing similarity: rapidfuzz over every phrasing, which rewards questions worded like one.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot import smalltalk
from bot.knowledge import Knowledge
from bot.models import Entry
from bot.text import clean_input

MAX_QUESTION = 1000


class Status(StrEnum):
    ANSWERED = "answered"
    SUGGEST = "suggest"
    DECLINED = "declined"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class Thresholds:
    answer: float = 62.0  # best score needed to answer outright
    margin: float = 8.0  # lead over the runner-up needed to answer outright
    suggest: float = 45.0  # best score needed to offer candidates
    coverage: float = 0.40  # share of the question's subject words an answer must account for
    close: float = 10.0  # candidates within this of the best are offered together


@dataclass(frozen=True)
class Weights:
    """Shares of the final score (they sum to 1)."""

    coverage: float = 0.5  # the question's subject words the entry accounts for
    fit: float = 0.1  # the best phrasing's subject words the question contains
    similarity: float = 0.1  # rapidfuzz token_set_ratio on subject words
    form: float = 0.1  # rapidfuzz ratio on the whole question, question words included


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

    @property
    def best(self) -> Candidate | None:
        """The closest entry even when declined, for the maintainers' report."""
        return self.candidates[0] if self.candidates else None


_ANSWER_WEIGHT = 0.5  # words that only appear in an entry's answer count half
_TITLE_WEIGHT = 0.5  # so do the words of its topic's title
_UNKNOWN_IDF_SHARE = 0.3  # an unknown word weighs this share of the rarest known word
_WORD = re.compile(r"[a-z0-9]+")


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
        norm = knowledge.normalizer
        self.entries: list[Entry] = list(knowledge.entries.values())
        self.weights = weights or Weights()
        self.phrasings: list[str] = []  # content words only: what token_set_ratio compares
        self.full_phrasings: list[str] = []  # with question words: "who was" vs "why was"
        self.owners: list[int] = []
        weights: list[dict[str, float]] = []
        for index, entry in enumerate(self.entries):
            bag: dict[str, float] = {}
            for token in norm.tokens(entry.answer):
                bag[token] = _ANSWER_WEIGHT
            topic = knowledge.topics.get(entry.topic)
            for token in norm.tokens(topic.title if topic else ""):
                bag[token] = max(bag.get(token, 0.0), _TITLE_WEIGHT)
            for text in [*entry.questions, *entry.keywords]:
                for token in norm.tokens(text):
                    bag[token] = 1.0
            for q in [*entry.questions, *entry.keywords]:
                self.phrasings.append(" ".join(norm.tokens(q)))
                self.full_phrasings.append(norm.text(q))
                self.owners.append(index)
            weights.append(bag)
        n = len(self.entries)
        df: dict[str, int] = defaultdict(int)
        for bag in weights:
            for token in bag:
                df[token] += 1
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.unknown_idf = math.log(1 + n) * _UNKNOWN_IDF_SHARE
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, bag in enumerate(weights):
            for token, weight in bag.items():
                self.postings[token].append((index, weight))
        self.phrasing_tokens = [frozenset(p.split()) for p in self.phrasings]
        self.phrasing_mass = [
            sum(self.idf.get(t, 0.0) for t in toks) for toks in self.phrasing_tokens
        ]
        self.entry_phrasings: list[list[int]] = [[] for _ in self.entries]
        for pos, index in enumerate(self.owners):
            self.entry_phrasings[index].append(pos)
        stopwords = knowledge.normalizer.stopwords
        self.vocabulary = sorted({t for t in [*df, *stopwords] if len(t) >= 4 and not t.isdigit()})
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)

    def answer_for(self, entry: Entry) -> Result:
        """A user picked this entry (a button, a number): answer it as asked."""
        return Result(entry.questions[0], Status.ANSWERED, 100.0, entry, (Candidate(entry, 100.0),))

    # -- the decision -------------------------------------------------------------------------
    def match(self, question: str) -> Result:
        text = clean_input(question or "", MAX_QUESTION)
        words = " ".join(_WORD.findall(text.lower()))
        if not words:
            return Result(text, Status.DECLINED, reason="empty")
        if smalltalk.looks_like_injection(text):
            return Result(text, Status.DECLINED, reason="injection")
        stopwords = self.knowledge.normalizer.stopwords
        tokens = [
            c
            for t in self.knowledge.normalizer.tokens(text)
            if (c := self._correct(t)) not in stopwords
        ]
        intent = smalltalk.smalltalk_intent(words)
        if intent:
            return Result(text, Status.SMALLTALK, reply=smalltalk.reply_for(intent), reason=intent)
        scored = self.rank(text, tokens)
        if not scored:
            return Result(text, Status.DECLINED, reason="off-topic")
        return self._decide(text, scored)

    def _decide(self, text: str, scored: list[tuple[Candidate, float]]) -> Result:
        th = self.thresholds
        (best, coverage) = scored[0]
        runner_up = scored[1][0].score if len(scored) > 1 else 0.0
        candidates = tuple(c for c, _ in scored[:3])
        if coverage < th.coverage or best.score < th.suggest:
            return Result(
                text, Status.DECLINED, best.score, candidates=candidates, reason="off-topic"
            )
        if best.score >= th.answer and best.score - runner_up >= th.margin:
            return Result(text, Status.ANSWERED, best.score, best.entry, candidates)
        close = tuple(
            c for c, cov in scored[:3] if c.score >= best.score - th.close and cov >= th.coverage
        )
        if len(close) == 1 and best.score >= th.answer:
            return Result(text, Status.ANSWERED, best.score, best.entry, candidates)
        return Result(text, Status.SUGGEST, best.score, candidates=close, reason="close")

    # -- scoring ------------------------------------------------------------------------------
    def rank(self, text: str, tokens: list[str], limit: int = 10) -> list[tuple[Candidate, float]]:
        """(candidate, coverage) pairs, best first; empty when nothing on the subject matched."""
        known = [t for t in dict.fromkeys(tokens) if t in self.idf]
        if not known:
            return []
        w = self.weights
        unknown = len(set(tokens)) - len(known)
        total = sum(self.idf[t] for t in known) + unknown * self.unknown_idf
        coverage: dict[int, float] = defaultdict(float)
        for token in known:
            idf = self.idf[token]
            for index, weight in self.postings[token]:
                coverage[index] += idf * weight
        shortlist = sorted(coverage, key=coverage.__getitem__, reverse=True)[: limit * 3]
        query = " ".join(tokens)
        full = self.knowledge.normalizer.text(text)
        similarity: dict[int, float] = defaultdict(float)
        for _, score, pos in process.extract(
            query, self.phrasings, scorer=fuzz.token_set_ratio, processor=None, limit=limit * 8
        ):
            index = self.owners[pos]
            similarity[index] = max(similarity[index], score)
        query_set = set(known)
        scored = []
        for index in set(shortlist) | set(similarity):
            cov = min(coverage.get(index, 0.0) / total, 1.0)
            fit = 0.0
            form = 0.0
            for pos in self.entry_phrasings[index]:
                mass = self.phrasing_mass[pos]
                if mass:
                    hit = sum(self.idf[t] for t in self.phrasing_tokens[pos] & query_set)
                    fit = max(fit, hit / mass)
                form = max(form, fuzz.ratio(full, self.full_phrasings[pos]))
            score = (
                w.coverage * cov * 100
                + w.fit * fit * 100
                + w.similarity * similarity.get(index, 0.0)
                + w.form * form
            )
            scored.append((Candidate(self.entries[index], round(score, 1)), cov))
        scored.sort(key=lambda pair: (-pair[0].score, pair[0].entry.id))
        return scored[:limit]

    def _correct_uncached(self, token: str) -> str:
        """A typo becomes the FAQ word (or question word) one or two edits away; unknown
        words stay unknown. Short words are left alone: too many are one edit apart."""
        if token in self.idf or len(token) < 5 or token.isdigit():
            return token
        max_edits = 2 if len(token) >= 8 else 1
        hit = process.extractOne(
            token, self.vocabulary, scorer=OSA.distance, score_cutoff=max_edits
        )
        return hit[0] if hit else token
