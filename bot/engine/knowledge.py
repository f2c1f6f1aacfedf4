"""Loading `knowledge/` into one immutable snapshot, or a list of every problem in it.

A snapshot is built completely before anyone sees it, so a reload that fails leaves the
running bot on the last good one."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz

from bot.engine import startcache, yamlfile
from bot.engine.models import (
    Entry,
    FaqFile,
    NotCoveredFile,
    OutsideTopic,
    Source,
    SourceRegistry,
    Synonyms,
    Topic,
    present_tense_titles,
)
from bot.engine.normalize import (
    BASE_STOPWORDS,
    Normalizer,
    english_words,
    remember_stems,
    stems,
    words,
)
from bot.text import fold

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "knowledge"
NEAR_IDENTICAL = 95
MAX_FAQ_BYTES = 1024 * 1024  # six times today's FAQ; validating it takes a few seconds


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None  # None: about a folder, or a file that could not be read
    message: str
    entry: str | None = None
    # A check across files (related entries, near-identical phrasings): listed after the
    # problems inside each file, which are usually what to fix first.
    cross: bool = False

    def __str__(self) -> str:
        where = _display(self.file) if self.line is None else f"{_display(self.file)}:{self.line}"
        return (
            f"{where}: entry {self.entry}: {self.message}"
            if self.entry
            else f"{where}: {self.message}"
        )


class KnowledgeError(Exception):
    """Raised with every problem found, not just the first: a maintainer fixes them in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge base")
        self.problems = sorted(problems, key=lambda p: (p.cross, str(p.file), p.line or 0))


@dataclass(frozen=True)
class Knowledge:
    root: Path
    sources: dict[str, Source]
    topics: dict[str, Topic]
    entries: dict[str, Entry]
    synonyms: Synonyms
    normalizer: Normalizer
    places: dict[str, tuple[Path, int]] = field(default_factory=dict)
    # Wording a maintainer should look at again; unlike problems, these do not stop a load.
    reviews: tuple[Problem, ...] = ()
    outside: dict[str, OutsideTopic] = field(default_factory=dict)  # what the articles lack

    def topic_entries(self, topic_id: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.topic == topic_id]

    def summary(self) -> str:
        counts = Counter(e.topic for e in self.entries.values())
        cited = Counter(c.source for e in self.entries.values() for c in e.citations)
        lines = [
            f"{len(self.entries)} entries in {len(self.topics)} topics, {len(self.sources)} sources"
        ]
        lines += [f"  {t.id:<16} {counts[t.id]:>3}  {t.title}" for t in self.topics.values()]
        lines.append("citations per source:")
        lines += [f"  {s:<16} {cited[s]:>3}  {self.sources[s].outlet}" for s in self.sources]
        return "\n".join(lines)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _validate(
    model: type[BaseModel],
    doc: yamlfile.YamlDoc,
    problems: list[Problem],
    context: dict[str, Any] | None = None,
) -> Any:
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            problems.append(
                Problem(doc.path, doc.line_of(loc), _describe(loc, err["msg"]), _entry_id(doc, loc))
            )
        return None


def _describe(loc: tuple[Any, ...], msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    # Drop the leading entries/N: the entry id already says which one.
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        loc = loc[2:]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if msg == "Extra inputs are not permitted":
        return f"unknown field {path!r}"
    if msg == "Field required":
        return f"missing field {path!r}"
    return f"{path}: {msg}" if path else msg


def _entry_id(doc: yamlfile.YamlDoc, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        entries = doc.data.get("entries") if isinstance(doc.data, dict) else None
        if (
            isinstance(entries, list)
            and loc[1] < len(entries)
            and isinstance(entries[loc[1]], dict)
        ):
            return str(entries[loc[1]].get("id", f"#{loc[1] + 1}"))
        return f"#{loc[1] + 1}"
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone since listed: _read reports it
        return 0


def _read(path: Path, problems: list[Problem]) -> yamlfile.YamlDoc | None:
    try:
        return yamlfile.load(path)
    except yamlfile.YamlSyntaxError as exc:
        problems.append(Problem(path, exc.line, exc.message))
    except OSError as exc:
        problems.append(Problem(path, None, f"cannot read: {exc.strerror}"))
    return None


def _load_sources(root: Path, problems: list[Problem]) -> tuple[dict[str, Source], dict[str, str]]:
    path = root / "sources.yaml"
    doc = _read(path, problems)
    registry = _validate(SourceRegistry, doc, problems) if doc else None
    if registry is None:
        return {}, {}
    sources: dict[str, Source] = {}
    texts: dict[str, str] = {}
    for i, source in enumerate(registry.sources):
        text_path = root / "sources" / source.file
        try:
            texts[source.id] = fold(text_path.read_text(encoding="utf-8"))
        except OSError:
            problems.append(
                Problem(
                    path,
                    doc.line_of(("sources", i, "file")),
                    f"source {source.id!r}: no file {_display(text_path)}",
                )
            )
            continue
        sources[source.id] = source
    return sources, texts


def load(root: Path | str = DEFAULT_DIR, *, cache: bool = True) -> Knowledge:
    """Everything or nothing: a Knowledge, or KnowledgeError listing every problem.

    A folder whose files and code are unchanged since a load that passed starts from the
    start-up cache (bot.engine.startcache); only a load that passed is cached, and only when
    the files did not change while it ran, so nothing refused is ever accepted from it."""
    root = Path(root)
    if not root.is_dir():
        raise KnowledgeError([Problem(root, None, "no such knowledge directory")])
    content = startcache.content_version(root) if cache else None
    if content is not None:  # None: turned off, or files too large to be a FAQ
        cached = startcache.read(root, content)
        knowledge = _restore(root, cached) if cached is not None else None
        if knowledge is not None:
            return knowledge
    knowledge = _build(root)
    if content is not None and startcache.content_version(root) == content:
        startcache.write(root, content, _dump(knowledge))
    return knowledge


def _build(root: Path) -> Knowledge:
    problems: list[Problem] = []
    sources, texts = _load_sources(root, problems)

    synonyms = Synonyms()
    if (root / "synonyms.yaml").exists():
        doc = _read(root / "synonyms.yaml", problems)
        synonyms = (_validate(Synonyms, doc, problems) if doc else None) or synonyms
    normalizer = Normalizer.build(synonyms)

    topics: dict[str, Topic] = {}
    entries: dict[str, Entry] = {}
    places: dict[str, tuple[Path, int]] = {}
    reviews: list[Problem] = []
    phrasings: dict[tuple[str, int], int] = {}  # (entry id, phrasing index) -> its line
    unloaded: set[str] = set()  # ids of entries in files that failed: they exist, unchecked
    faq_files = sorted((root / "faq").glob("*.yaml"))
    if not faq_files:
        problems.append(Problem(root / "faq", None, "no FAQ files (*.yaml)"))
    sizes = [_size(path) for path in faq_files]  # a file over the limit is refused on its own
    total = sum(size for size in sizes if size <= yamlfile.MAX_BYTES)
    if total > MAX_FAQ_BYTES:  # checking near-identical phrasings grows with the square
        problems.append(
            Problem(
                root / "faq",
                None,
                f"the FAQ files total {total // 1024} KB;"
                f" at most {MAX_FAQ_BYTES // 1024} KB are loaded",
            )
        )
        raise KnowledgeError(problems)
    # Related entries named by entries that failed validation: checked like the others, so
    # that one run reports every problem an entry has (validate used to need several passes).
    unchecked: list[tuple[Path, int, str, list[str]]] = []

    def register(path: Path, doc: yamlfile.YamlDoc, i: int, entry: Entry) -> None:
        line = doc.line_of(("entries", i))
        if entry.id in entries:
            first = places[entry.id]
            problems.append(
                Problem(
                    path, line, f"duplicate id (first at {_display(first[0])}:{first[1]})", entry.id
                )
            )
            return
        entries[entry.id] = entry
        places[entry.id] = (path, line)
        for j in range(len(entry.questions)):
            phrasings[entry.id, j] = doc.line_of(("entries", i, "questions", j))
        reviews.extend(
            Problem(
                path,
                doc.line_of(("entries", i, "answer")),
                f"review: job title in the present tense: {title!r}; the articles date "
                "from 2018-19, so say 'then' or use the past tense",
                entry.id,
            )
            for title in present_tense_titles(entry.answer)
        )

    context = {"source_texts": texts, "sources": sources}
    for path in faq_files:
        doc = _read(path, problems)
        if doc is None:
            unloaded |= _ids_in_text(path)
            continue
        faq = _validate(FaqFile, doc, problems, context=context)
        if faq is None:
            unloaded |= _ids_in_data(doc.data)
            for i, raw, entry in _salvage(doc, context):
                if entry is not None:
                    register(path, doc, i, entry)
                elif isinstance(raw.get("related"), list):
                    related = [r for r in raw["related"] if isinstance(r, str)]
                    unchecked.append((path, doc.line_of(("entries", i)), str(raw["id"]), related))
            continue
        if faq.topic.id in topics:
            problems.append(
                Problem(
                    path,
                    doc.line_of(("topic", "id")),
                    f"topic {faq.topic.id!r} is defined in two files",
                )
            )
        topics[faq.topic.id] = faq.topic
        for i, entry in enumerate(faq.entries):
            register(path, doc, i, entry)

    normalizer.remember(_texts(topics, entries))  # each is normalised by the checks and the index
    related = [(*places[e.id], e.id, e.related) for e in entries.values()]
    for path, line, entry_id, names in related + unchecked:
        for rel in names:
            if rel not in entries and rel not in unloaded:
                problems.append(
                    Problem(
                        path, line, f"related entry {rel!r} does not exist", entry_id, cross=True
                    )
                )
    problems += _ambiguities(entries, places, phrasings, normalizer)
    outside = _load_outside(root / "not-covered.yaml", entries, normalizer, problems)
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(
        root, sources, topics, entries, synonyms, normalizer, places, tuple(reviews), outside
    )


_ENTRY_ID = re.compile(r"""^\s*-\s+id:\s*["']?([\w-]+)""", re.MULTILINE)


def _ids_in_text(path: Path) -> set[str]:
    """The entry ids a file that is not valid YAML seems to define (`- id: x` lines); none
    for a file refused by its size or as no regular file, which is never read."""
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode) or stat.st_size > yamlfile.MAX_BYTES:
            return set()
        return set(_ENTRY_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return set()


def _salvage(
    doc: yamlfile.YamlDoc, context: dict[str, Any]
) -> list[tuple[int, dict[str, Any], Entry | None]]:
    """The entries of a file that failed validation, each validated on its own: (position,
    the raw mapping, the Entry or None). A valid one takes part in the checks across entries;
    their problems are already reported, so they are not reported again."""
    data = doc.data if isinstance(doc.data, dict) else {}
    topic = data.get("topic")
    topic_id = topic.get("id") if isinstance(topic, dict) else None
    entries = data.get("entries")
    found = []
    for i, raw in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(raw, dict) or "id" not in raw:
            continue
        try:
            entry = Entry.model_validate(
                {**raw, "topic": topic_id} if isinstance(topic_id, str) else raw, context=context
            )
        except ValidationError:
            entry = None
        found.append((i, raw, entry))
    return found


def _ids_in_data(data: object) -> set[str]:
    """The entry ids of a file that parsed but failed validation."""
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return set()
    return {str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e}


def _load_outside(
    path: Path, entries: dict[str, Entry], normalizer: Normalizer, problems: list[Problem]
) -> dict[str, OutsideTopic]:
    """The optional list of topics the articles do not cover. A phrasing that is also an
    entry's would decline a question the FAQ answers, so that is an error."""
    if not path.exists():
        return {}
    doc = _read(path, problems)
    listed = _validate(NotCoveredFile, doc, problems) if doc else None
    if listed is None:
        return {}
    normalizer.remember(q for topic in listed.not_covered for q in topic.questions)
    asked = {
        frozenset(normalizer.tokens(q)): entry.id
        for entry in entries.values()
        for q in [*entry.questions, *entry.keywords]
    }
    outside: dict[str, OutsideTopic] = {}
    for i, topic in enumerate(listed.not_covered):
        line = doc.line_of(("not_covered", i))
        if topic.id in outside:
            problems.append(Problem(path, line, f"duplicate id {topic.id!r}"))
            continue
        for question in topic.questions:
            owner = asked.get(frozenset(normalizer.tokens(question)))
            if owner:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{topic.id}: {question!r} is a phrasing of entry {owner}",
                    )
                )
        outside[topic.id] = topic
    return outside


def _ambiguities(
    entries: dict[str, Entry],
    places: dict[str, tuple[Path, int]],
    phrasings: dict[tuple[str, int], int],
    normalizer: Normalizer,
) -> list[Problem]:
    """Two entries sharing a phrasing would make the matcher toss a coin between them.

    Only phrasings of similar length can reach the cut-off, so each is compared with its
    neighbours in length order: linear-ish instead of every pair, which keeps start-up fast."""
    items = sorted(
        (
            (" ".join(sorted(normalizer.text(q).split())), entry.id, q, j)
            for entry in entries.values()
            for j, q in enumerate(entry.questions)
        ),
        key=lambda item: len(item[0]),
    )
    max_ratio = 2 / (NEAR_IDENTICAL / 100) - 1  # ratio = 2M/(a+b) >= r needs b <= a(2/r - 1)
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for i, (text, owner, question, j) in enumerate(items):
        if not text:
            continue
        for other, other_owner, other_question, k in items[i + 1 :]:
            if len(other) > len(text) * max_ratio + 1:
                break
            pair = frozenset((owner, other_owner))
            if owner == other_owner or pair in reported:
                continue
            score = fuzz.ratio(text, other, score_cutoff=NEAR_IDENTICAL)
            if score:
                reported.add(pair)
                path = places[owner][0]
                other_path = places[other_owner][0]
                other_line = phrasings.get((other_owner, k), places[other_owner][1])
                problems.append(
                    Problem(
                        path,
                        phrasings.get((owner, j), places[owner][1]),
                        f"phrasing {question!r} is near-identical ({score:.0f}) to "
                        f"{other_question!r} of entry {other_owner} "
                        f"({_display(other_path)}:{other_line}); the bot would hesitate "
                        "between the two entries",
                        owner,
                        cross=True,
                    )
                )
    return problems


def _texts(topics: dict[str, Topic], entries: dict[str, Entry]) -> list[str]:
    """The FAQ texts the matcher normalises: topic titles, phrasings, keywords, answers."""
    texts = [t.title for t in topics.values()]
    for entry in entries.values():
        texts += [*entry.questions, *entry.keywords, entry.answer]
    return texts


def _dump(knowledge: Knowledge) -> dict[str, Any]:
    """What the start-up cache keeps of a load that passed (JSON-ready)."""
    root = knowledge.root

    def where(path: Path) -> str:
        return path.relative_to(root).as_posix()

    normalizer = knowledge.normalizer
    outside_words = {w for t in knowledge.outside.values() for q in t.questions for w in words(q)}
    synonyms = knowledge.synonyms
    texts = [
        *_texts(knowledge.topics, knowledge.entries),
        *(w for canonical, listed in synonyms.synonyms.items() for w in (canonical, *listed)),
        *BASE_STOPWORDS,
        *synonyms.stopwords,
    ]
    vocabulary = {w for t in texts for w in words(t)} | outside_words
    return {
        "sources": [s.model_dump(mode="json") for s in knowledge.sources.values()],
        "topics": [t.model_dump(mode="json") for t in knowledge.topics.values()],
        "entries": [e.model_dump(mode="json") for e in knowledge.entries.values()],
        "synonyms": knowledge.synonyms.model_dump(mode="json"),
        "places": {i: [where(path), line] for i, (path, line) in knowledge.places.items()},
        "reviews": [[where(p.file), p.line, p.message, p.entry] for p in knowledge.reviews],
        "outside": [t.model_dump(mode="json") for t in knowledge.outside.values()],
        "variants": normalizer.variants,
        "stopwords": sorted(normalizer.stopwords),
        "normalised": normalizer.memo,
        # Whether each word of the not-covered questions is English: the matcher asks at
        # start, and the answer would otherwise cost reading the whole word list.
        "english": english_words().answers(sorted(outside_words)),
        # Every word the matcher stems at start (the FAQ's words, synonyms, stopwords).
        "stems": stems(sorted(vocabulary)),
    }


def _restore(root: Path, data: dict[str, Any]) -> Knowledge | None:
    """The Knowledge a cached load produced; None when the payload does not fit the models
    (it is validated again: the cache is trusted to be ours, not to be well-formed)."""
    try:
        sources = {s.id: s for s in map(Source.model_validate, data["sources"])}
        topics = {t.id: t for t in map(Topic.model_validate, data["topics"])}
        entries = {e.id: e for e in map(Entry.model_validate, data["entries"])}
        outside = {t.id: t for t in map(OutsideTopic.model_validate, data["outside"])}
        synonyms = Synonyms.model_validate(data["synonyms"])
        places = {i: (root / path, int(line)) for i, (path, line) in data["places"].items()}
        reviews = tuple(
            Problem(root / path, int(line), str(message), entry)
            for path, line, message, entry in data["reviews"]
        )
        variants = {str(k): str(v) for k, v in data["variants"].items()}
        normalizer = Normalizer.from_parts(variants, frozenset(map(str, data["stopwords"])))
        normalizer.memo.update((str(k), str(v)) for k, v in data["normalised"].items())
        english = {str(k): bool(v) for k, v in data["english"].items()}
        known_stems = {str(k): str(v) for k, v in data["stems"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):  # ValidationError is a ValueError
        return None
    if set(places) != set(entries):
        return None
    english_words().answer_in_advance(english)
    remember_stems(known_stems)
    return Knowledge(root, sources, topics, entries, synonyms, normalizer, places, reviews, outside)
