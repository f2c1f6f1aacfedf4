"""From what people type to comparable tokens: case, punctuation, accents, spelling
variants, synonyms and word endings. Phrasings and questions go through the same function,
so the matcher compares like with like."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import snowballstemmer

from bot.engine.models import Synonyms
from bot.text import fold, strip_accents

# Words that say nothing about which entry is meant. Question words stay in the full
# string that rapidfuzz compares, but not in the content tokens that decide the subject.
BASE_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in
    into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on
    once only or other ought our ours ourselves out over own same shan't she she'd she'll she's
    should shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've this those through to too under until up
    very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
    which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've
    your yours yourself yourselves
    tell know explain please pls plz thanks thx hey hi hello just really actually also anything
    something thing things stuff any kind sort get got give say said says saying talk talking
    like want wanna gonna gotta u ur r ya yo yeah ok okay im dont doesnt didnt whats
    wat wht hw abt bout there's isnt cant wont
    """.split()
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_POSSESSIVE = re.compile(r"(?<=[a-z])'s\b")
_THOUSANDS = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")
_STEMMER = snowballstemmer.stemmer("english")


# The FAQ's own words already stemmed (from the start-up cache): the matcher stems every word
# of the FAQ at start, which costs more than everything else it does then.
_KNOWN_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """Snowball (Porter 2): sanctioned/sanctions/sanctioning all become "sanction"."""
    known = _KNOWN_STEMS.get(word)
    return known if known is not None else _stem(word)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def stems(words: Iterable[str]) -> dict[str, str]:
    """Each word's stem, to be given back with `remember_stems` in another process."""
    return {w: stem(w) for w in words}


def remember_stems(known: dict[str, str]) -> None:
    _KNOWN_STEMS.update(known)


_LISTED_WORD = re.compile(r'"([a-z]{4,})":')


class EnglishWords:
    """pyspellchecker's English word list (subtitles and Wikipedia), words of four letters or
    more: shorter ones are never corrected. Read the first time a word is asked about that was
    not answered in advance (the start-up cache answers for the words the FAQ itself uses), so
    a process that corrects no typo never reads it: 0.04 s and 12 MB saved. The file is read
    directly because `SpellChecker()` builds a frequency table three times the size that is not
    needed here; tests/engine/test_matcher.py fails if the file ever changes shape."""

    def __init__(self) -> None:
        self._words: frozenset[str] | None = None
        self._answers: dict[str, bool] = {}

    def __contains__(self, word: object) -> bool:
        known = self._answers.get(word) if isinstance(word, str) else None
        return known if known is not None else word in self.words()

    @property
    def loaded(self) -> bool:
        return self._words is not None

    def words(self) -> frozenset[str]:
        if self._words is None:  # two threads may both read it once: harmless
            data = resources.files("spellchecker.resources").joinpath("en.json.gz").read_bytes()
            text = gzip.decompress(data).decode("utf-8")
            self._words = frozenset(_LISTED_WORD.findall(text))
        return self._words

    def answers(self, words: Iterable[str]) -> dict[str, bool]:
        """Whether each word is English, to be given back with `answer_in_advance`."""
        return {w: w in self.words() for w in words}

    def answer_in_advance(self, answers: dict[str, bool]) -> None:
        self._answers.update(answers)


_ENGLISH = EnglishWords()


def english_words() -> EnglishWords:
    """The one word list of this process (see EnglishWords)."""
    return _ENGLISH


def word_list_version() -> str:
    """What identifies the installed word list without reading it (for the start-up cache)."""
    stat = Path(str(resources.files("spellchecker.resources").joinpath("en.json.gz"))).stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def words(raw: str) -> list[str]:
    """Folded, accent-free, lower-case words, unstemmed; 120,000 becomes 120000."""
    folded = fold(raw)
    if not folded.isascii():  # ASCII has no accents: skip the per-character pass
        folded = strip_accents(folded)
    text = _POSSESSIVE.sub("", folded.lower()).replace("'", "")
    return _NON_WORD.sub(" ", _THOUSANDS.sub("", text)).split()


def _prepare(raw: str) -> str:
    return " ".join(stem(w) for w in words(raw))


@dataclass(frozen=True)
class Normalizer:
    """Built once per knowledge load; `tokens` is on the hot path.

    `memo` holds the FAQ's own texts already normalised (`remember`), filled at load or from
    the start-up cache: the index and the checks at load normalise each phrasing several times.
    Questions are never added, so it does not grow while the bot runs."""

    variants: dict[str, str]
    stopwords: frozenset[str]
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    memo: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, synonyms: Synonyms) -> Normalizer:
        variants: dict[str, str] = {}
        for canonical, listed in synonyms.synonyms.items():
            target = _prepare(canonical)
            variants[target] = target  # consumed whole, so "rights" inside it is left alone
            for word in listed:
                key = _prepare(word)
                if key:
                    variants[key] = target
        stop = {_prepare(w) for w in BASE_STOPWORDS | set(synonyms.stopwords)}
        return cls.from_parts(variants, frozenset(stop))

    @classmethod
    def from_parts(cls, variants: dict[str, str], stopwords: frozenset[str]) -> Normalizer:
        """A normaliser from what `build` worked out (kept in the start-up cache)."""
        pattern = None
        if variants:
            alternation = "|".join(
                re.escape(v) for v in sorted(variants, key=lambda v: (-len(v), v))
            )
            pattern = re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])")
        return cls(variants=variants, stopwords=stopwords, _pattern=pattern)

    def remember(self, texts: Iterable[str]) -> None:
        """Normalise these texts once, now; `text` and `tokens` then look them up."""
        for raw in texts:
            if raw not in self.memo:
                self.memo[raw] = self._normalise(raw)

    def text(self, raw: str) -> str:
        """Stemmed words with synonyms resolved: the string rapidfuzz compares."""
        known = self.memo.get(raw)
        return known if known is not None else self._normalise(raw)

    def _normalise(self, raw: str) -> str:
        prepared = _prepare(raw)
        if self._pattern is not None:
            prepared = self._pattern.sub(lambda m: self.variants[m.group(0)], prepared)
        return prepared

    def tokens(self, raw: str) -> list[str]:
        """Content tokens, in order, without stopwords: what decides the subject."""
        return [t for t in self.text(raw).split() if t not in self.stopwords]
