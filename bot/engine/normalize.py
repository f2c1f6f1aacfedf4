"""From what people type to comparable tokens: case, punctuation, accents, spelling
variants, synonyms and word endings. Phrasings and questions go through the same function,
so the matcher compares like with like."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

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


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2): sanctioned/sanctions/sanctioning all become "sanction"."""
    return _STEMMER.stemWord(word)


_LISTED_WORD = re.compile(r'"([a-z]{4,})":')


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (subtitles and Wikipedia), words of four letters or
    more: shorter ones are never corrected. Read once per process: under 0.1 s, 12 MB. The file
    is read directly because `SpellChecker()` builds a frequency table three times the size that
    is not needed here; tests/engine/test_matcher.py fails if the file ever changes shape."""
    data = resources.files("spellchecker.resources").joinpath("en.json.gz").read_bytes()
    return frozenset(_LISTED_WORD.findall(gzip.decompress(data).decode("utf-8")))


def words(raw: str) -> list[str]:
    """Folded, accent-free, lower-case words, unstemmed; 120,000 becomes 120000."""
    text = _POSSESSIVE.sub("", strip_accents(fold(raw)).lower()).replace("'", "")
    return _NON_WORD.sub(" ", _THOUSANDS.sub("", text)).split()


def _prepare(raw: str) -> str:
    return " ".join(stem(w) for w in words(raw))


@dataclass(frozen=True)
class Normalizer:
    """Built once per knowledge load; `tokens` is on the hot path."""

    variants: dict[str, str]
    stopwords: frozenset[str]
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

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
        pattern = None
        if variants:
            alternation = "|".join(
                re.escape(v) for v in sorted(variants, key=lambda v: (-len(v), v))
            )
            pattern = re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])")
        stop = {_prepare(w) for w in BASE_STOPWORDS | set(synonyms.stopwords)}
        return cls(variants=variants, stopwords=frozenset(stop), _pattern=pattern)

    def text(self, raw: str) -> str:
        """Stemmed words with synonyms resolved: the string rapidfuzz compares."""
        prepared = _prepare(raw)
        if self._pattern is not None:
            prepared = self._pattern.sub(lambda m: self.variants[m.group(0)], prepared)
        return prepared

    def tokens(self, raw: str) -> list[str]:
        """Content tokens, in order, without stopwords: what decides the subject."""
        return [t for t in self.text(raw).split() if t not in self.stopwords]
