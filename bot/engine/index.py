"""What the matcher precomputes at load for a set of items (FAQ entries, or the topics the
articles do not cover) and the scoring it does with it on the hot path.

An item is its phrasings (what people ask) plus texts that say less about it (its answer, its
topic's title), each word weighted by how central it is to the item. Scores combine four
signals, each 0-100 before its share (see Weights):
- coverage: how much of the question's weighted vocabulary the item accounts for; words the
  index never uses count against it, which keeps off-subject questions from being answered;
- fit: how much of the item's closest phrasing the question contains;
- similarity: rapidfuzz token_set_ratio over all phrasings (process.extract);
- form: rapidfuzz ratio on the whole question, question words kept ("who was" / "why was").
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from bot.engine.normalize import Normalizer

PHRASING_FLOOR = 0.6  # the least a phrasing word counts; one in every phrasing counts 1
_UNKNOWN_CAP = 2  # no more than two unknown words count: long questions carry stray words


@dataclass(frozen=True)
class Weights:
    """Shares of the final score (they sum to 1)."""

    coverage: float = 0.6  # the question's subject words the item accounts for
    fit: float = 0.1  # the best phrasing's subject words the question contains
    similarity: float = 0.1  # rapidfuzz token_set_ratio on subject words
    form: float = 0.2  # rapidfuzz ratio on the whole question, question words included


@dataclass(frozen=True)
class Item:
    name: str  # equal scores are ordered by name, so results never depend on load order
    phrasings: Sequence[str]  # questions and keywords
    context: Sequence[tuple[str, float]] = ()  # (text, weight): answer, topic title


@dataclass(frozen=True)
class Scored:
    item: int  # position in the index's items
    score: float
    coverage: float


class Index:
    """Immutable once built. `idf` may be shared from another index so that two indexes'
    scores are on one scale; words it lacks then weigh as much as `unknown_idf`."""

    def __init__(
        self,
        items: Sequence[Item],
        normalizer: Normalizer,
        weights: Weights | None = None,
        idf: dict[str, float] | None = None,
        *,
        fuzzy_everywhere: bool = True,
    ) -> None:
        self.normalizer = normalizer
        # False: token_set_ratio only for the items whose words the question shares (a
        # shortlist), not every phrasing; for a second index that only has to beat the first.
        self.fuzzy_everywhere = fuzzy_everywhere
        self.weights = weights or Weights()
        self.size = len(items)
        self.names = [item.name for item in items]
        self.phrasings: list[str] = []  # content words only: what token_set_ratio compares
        self.full_phrasings: list[str] = []  # with question words: "who was" vs "why was"
        self.owners: list[int] = []
        bags: list[dict[str, float]] = []
        for index, item in enumerate(items):
            bag: dict[str, float] = {}
            for text, weight in item.context:
                for token in normalizer.tokens(text):
                    bag[token] = max(bag.get(token, 0.0), weight)
            phrasings = [set(normalizer.tokens(text)) for text in item.phrasings]
            in_phrasings = Counter(token for p in phrasings for token in p)  # one pass, not one
            for token in set().union(*phrasings):  # per word (the same order as always)
                share = in_phrasings[token] / len(phrasings)
                # A word in most phrasings is what the item is about; one in a single long
                # phrasing is context. Both count, the first more.
                bag[token] = max(
                    bag.get(token, 0.0), PHRASING_FLOOR + (1 - PHRASING_FLOOR) * share**0.5
                )
            for text in item.phrasings:
                self.phrasings.append(" ".join(normalizer.tokens(text)))
                self.full_phrasings.append(normalizer.text(text))
                self.owners.append(index)
            bags.append(bag)
        # A word is as specific as the number of items whose phrasings use it: one that many
        # answers mention in passing but few entries are asked with still tells them apart.
        # Words found only in answers count the answers.
        df: dict[str, int] = defaultdict(int)
        self.breadth: dict[str, int] = defaultdict(int)  # items whose phrasings use a word
        for bag in bags:
            for token, weight in bag.items():
                df[token] += 1
                self.breadth[token] += weight >= PHRASING_FLOOR
        n = max(self.size, 1)
        self.unknown_idf = math.log(1 + n)
        own = {t: math.log(1 + n / (self.breadth[t] or c)) for t, c in df.items()}
        self.idf = own if idf is None else {**dict.fromkeys(own, self.unknown_idf), **idf}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, bag in enumerate(bags):
            for token, weight in bag.items():
                self.postings[token].append((index, weight))
        self.phrasing_tokens = [frozenset(p.split()) for p in self.phrasings]
        self.phrasing_mass = [
            sum(self.idf.get(t, 0.0) for t in toks) for toks in self.phrasing_tokens
        ]
        self.item_phrasings: list[list[int]] = [[] for _ in items]
        for pos, index in enumerate(self.owners):
            self.item_phrasings[index].append(pos)
        # A question that is exactly one of an item's phrasings or keywords ("kwanliso",
        # "hanoi summit") names that item: the maintainer chose it, so it is no tie.
        self.named: dict[frozenset[str], set[str]] = defaultdict(set)
        for pos, toks in enumerate(self.phrasing_tokens):
            self.named[toks].add(self.names[self.owners[pos]])

    @cached_property
    def _phrasings_with(self) -> dict[str, list[int]]:
        """Each word's phrasings (positions), for fit; built at first use."""
        found: dict[str, list[int]] = defaultdict(list)
        for pos, toks in enumerate(self.phrasing_tokens):
            if self.phrasing_mass[pos]:
                for token in toks:
                    found[token].append(pos)
        return found

    def rank(self, text: str, tokens: list[str], limit: int = 10) -> list[Scored]:
        """Best first; empty when none of the question's words is in the index."""
        known = [t for t in dict.fromkeys(tokens) if t in self.idf]
        if not known or not self.size:
            return []
        w = self.weights
        unknown = min(len(set(tokens)) - len(known), _UNKNOWN_CAP)
        total = sum(self.idf[t] for t in known) + unknown * self.unknown_idf
        coverage: dict[int, float] = defaultdict(float)
        for token in known:
            idf = self.idf[token]
            for index, weight in self.postings[token]:
                coverage[index] += idf * weight
        shortlist = sorted(coverage, key=coverage.__getitem__, reverse=True)[: limit * 3]
        query = " ".join(tokens)
        full = self.normalizer.text(text)
        similarity: dict[int, float] = defaultdict(float)
        if self.fuzzy_everywhere:
            found = process.extract(
                query, self.phrasings, scorer=fuzz.token_set_ratio, processor=None, limit=limit * 8
            )
            for _, score, pos in found:
                index = self.owners[pos]
                similarity[index] = max(similarity[index], score)
        else:
            for index in shortlist:
                for pos in self.item_phrasings[index]:
                    score = fuzz.token_set_ratio(query, self.phrasings[pos])
                    similarity[index] = max(similarity[index], score)
        # fit: the share of each phrasing's weight the question's words hold, summed from the
        # phrasings each word is in; form: rapidfuzz ratio over every phrasing in one call
        # (both per phrasing, once per question: looping over each candidate's phrasings in
        # Python cost more than the matching itself).
        hits: dict[int, float] = defaultdict(float)
        for token in known:
            idf = self.idf[token]
            for pos in self._phrasings_with.get(token, ()):
                hits[pos] += idf
        fit: dict[int, float] = defaultdict(float)
        for pos, hit in hits.items():
            index = self.owners[pos]
            fit[index] = max(fit[index], hit / self.phrasing_mass[pos])
        candidates = set(shortlist) | set(similarity)
        form = [0.0] * self.size
        owners = self.owners
        if self.fuzzy_everywhere:
            for _, ratio, pos in process.extract(
                full, self.full_phrasings, scorer=fuzz.ratio, processor=None, limit=None
            ):
                index = owners[pos]
                if ratio > form[index]:
                    form[index] = ratio
        else:  # a shortlist of a few: their phrasings only
            for index in candidates:
                for pos in self.item_phrasings[index]:
                    form[index] = max(form[index], fuzz.ratio(full, self.full_phrasings[pos]))
        scored: list[Scored] = []
        for index in candidates:
            cov = min(coverage.get(index, 0.0) / total, 1.0)
            score = (
                w.coverage * cov * 100
                + w.fit * fit.get(index, 0.0) * 100
                + w.similarity * similarity.get(index, 0.0)
                + w.form * form[index]
            )
            scored.append(Scored(index, round(score, 1), cov))
        scored.sort(key=lambda s: (-s.score, self.names[s.item]))
        return scored[:limit]
