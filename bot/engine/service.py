"""The answer engine as the bot, the console and the CLI use it: ask, choose, reload.

It knows nothing of Telegram. The current matcher is swapped in one assignment, so a
question never sees half a reload, and a reload that fails validation changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

from bot.engine import followup
from bot.engine import knowledge as kb
from bot.engine.matcher import Matcher, Result, Status
from bot.engine.models import Entry
from bot.storage import Store

log = logging.getLogger(__name__)
# What the maintainers' report shows.
MISSES = ("off-topic", "unknown", "close", "not-covered", "beyond", "unasked")


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detection: names, sizes and mtimes of every file under knowledge/.

    Editors create and delete temporary files while saving; one that vanishes between the
    listing and its stat is simply not part of the picture."""
    seen = []
    for path in sorted(root.rglob("*")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if S_ISREG(stat.st_mode):
            seen.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return tuple(seen)


@dataclass(frozen=True)
class ReloadOutcome:
    ok: bool
    problems: list[kb.Problem] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            head = (
                f"Reload refused: {len(self.problems)} problem(s);"
                " still serving the last good version."
            )
            return "\n".join([head, *(str(p) for p in self.problems)])
        parts = [
            f"{label}: {', '.join(ids)}"
            for label, ids in (
                ("added", self.added),
                ("removed", self.removed),
                ("changed", self.changed),
            )
            if ids
        ]
        return "Reloaded. " + ("; ".join(parts) if parts else "No entry changed.")


class _Served:
    """A matcher and what is worked out once per version of the FAQ: each phrasing's entry
    (what the Share button types) at once, each entry's next questions (a full ranking, longer
    than a match) the first time that entry is answered."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        entries = matcher.knowledge.entries.values()
        self.phrasings = {_key(q): entry for entry in entries for q in entry.questions}
        self.next: dict[str, list[Entry]] = {}


class FaqService:
    def __init__(self, knowledge_dir: Path, store: Store | None = None) -> None:
        self.knowledge_dir = Path(knowledge_dir)
        self.store = store
        self._fingerprint = fingerprint(self.knowledge_dir)
        self._serve(Matcher(kb.load(self.knowledge_dir)))

    def _serve(self, matcher: Matcher) -> None:
        """Answer from `matcher` from now on. One assignment, so a reload (in a thread) never
        shows an answer the new matcher with the old version's lookups."""
        self._served = _Served(matcher)

    @property
    def matcher(self) -> Matcher:
        return self._served.matcher

    @property
    def knowledge(self) -> kb.Knowledge:
        return self.matcher.knowledge

    def ask(self, question: str, after: str | None = None) -> Result:
        """Match and remember: answered entries are counted, misses kept for the report.

        `after`: the entry the question follows on from (the chat's last answer, the answer
        replied to). It is used only when the question alone is not answered and is short
        (bot.engine.followup); such an answer has reason followup.FOLLOW_UP."""
        result = self.matcher.match(question)
        previous = self.knowledge.entries.get(after) if after else None
        if previous is not None:
            result = followup.continue_from(self.matcher, result, previous) or result
        if self.store is not None:
            self._record(result)
        return result

    def _record(self, result: Result) -> None:
        try:
            if result.status is Status.ANSWERED and result.entry:
                self.store.record_answer(result.entry.id)
            elif result.status in (Status.SUGGEST, Status.DECLINED) and result.reason in MISSES:
                best = result.best
                self.store.record_miss(
                    result.question,
                    str(result.status),
                    best.entry.id if best else None,
                    best.score if best else None,
                )
        except Exception:  # a full disk must not cost the user an answer
            log.exception("could not record a question")

    def choose(self, entry_id: str) -> Result | None:
        entry = self.knowledge.entries.get(entry_id)
        if entry is None:
            return None
        result = self.matcher.answer_for(entry)
        if self.store is not None:
            self._record(result)
        return result

    def search(self, query: str, limit: int = 10) -> list[Entry]:
        """Entries for an inline query: the answer first, then close candidates. A query that
        is exactly one of an entry's phrasings (what the Share button types) yields that entry
        alone, so the person sharing an answer cannot pick the wrong one."""
        exact = self.exact(query)
        if exact is not None:
            return [exact]
        result = self.matcher.match(query)
        if result.status is Status.ANSWERED and result.entry:
            return [
                result.entry,
                *(c.entry for c in result.candidates if c.entry is not result.entry),
            ][:limit]
        if result.status is Status.SUGGEST:
            return [c.entry for c in result.candidates][:limit]
        return []

    def next_questions(self, entry: Entry) -> list[Entry]:
        """Up to three questions to offer under `entry`'s answer."""
        served = self._served
        if entry.id not in served.next:
            served.next[entry.id] = followup.next_questions(served.matcher, entry)
        return served.next[entry.id]

    def exact(self, text: str) -> Entry | None:
        """The entry whose id `text` is, or one of whose phrasings it is (case and spacing
        aside)."""
        key = _key(text)
        served = self._served
        return served.matcher.knowledge.entries.get(key) or served.phrasings.get(key)

    def popular(self, limit: int = 10) -> list[Entry]:
        entries = self.knowledge.entries
        ids = [i for i, _ in self.store.most_asked(limit)] if self.store else []
        asked = [entries[i] for i in ids if i in entries]
        rest = [e for e in entries.values() if e not in asked]
        return (asked + rest)[:limit]

    def changed_on_disk(self) -> bool:
        try:
            return fingerprint(self.knowledge_dir) != self._fingerprint
        except OSError:
            return False

    def reload(self, settled: tuple | None = None) -> ReloadOutcome | None:
        """Build the new version completely, then swap it in: safe to run in a thread while
        the old version keeps answering.

        `settled`: the fingerprint the caller saw stay unchanged. If the files differ from it
        once read (a save landed between that check and the read, so what was read may be
        half a file), nothing is swapped or reported: None, wait and try again."""
        try:
            current = fingerprint(self.knowledge_dir)
        except OSError:  # a folder vanished mid-listing: look again at the next check
            current = ()
        try:
            knowledge = kb.load(self.knowledge_dir)
        except kb.KnowledgeError as exc:
            if self._moved_since(settled):
                return None
            self._fingerprint = current  # report a broken edit once, not every few seconds
            return ReloadOutcome(False, exc.problems)
        if self._moved_since(settled):
            return None
        old = self.knowledge.entries
        new = knowledge.entries
        outcome = ReloadOutcome(
            True,
            added=sorted(set(new) - set(old)),
            removed=sorted(set(old) - set(new)),
            changed=sorted(i for i in set(old) & set(new) if old[i] != new[i]),
        )
        self._serve(Matcher(knowledge, self.matcher.thresholds))
        self._fingerprint = current
        return outcome

    def _moved_since(self, settled: tuple | None) -> bool:
        try:
            return settled is not None and fingerprint(self.knowledge_dir) != settled
        except OSError:
            return True


def _key(text: str) -> str:
    """A phrasing as the Share button types it, case and spacing aside."""
    return " ".join(text.split()).casefold()
