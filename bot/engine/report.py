"""What the FAQ missed, what users disliked, and what nobody asked: the maintainers' to-do list.

Near-identical questions are grouped with rapidfuzz so that "how old is kim" and "how old is
Kim??" count as one row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from rapidfuzz import fuzz, process

from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher, Result, Status
from bot.storage import Miss, Store, question_key

GROUP_SIMILARITY = 88


@dataclass
class MissGroup:
    question: str
    count: int
    status: str
    best_entry: str | None
    best_score: float | None
    variants: list[str] = field(default_factory=list)
    not_covered: str | None = None  # what the FAQ declines it as, by name (not-covered.yaml)


@dataclass
class Report:
    misses: list[MissGroup]
    disliked: list[dict[str, object]]
    never_matched: list[str]


def group_misses(misses: list[Miss]) -> list[MissGroup]:
    groups: list[MissGroup] = []
    keys: list[str] = []
    for miss in sorted(misses, key=lambda m: -m.count):
        key = question_key(miss.text)
        hit = (
            process.extractOne(
                key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=GROUP_SIMILARITY
            )
            if keys
            else None
        )
        if hit:
            group = groups[hit[2]]
            group.count += miss.count
            group.variants.append(miss.text)
            if group.best_entry is None or (miss.best_score or 0) > (group.best_score or 0):
                group.best_entry, group.best_score = miss.best_entry, miss.best_score
            continue
        groups.append(
            MissGroup(miss.text, miss.count, miss.status, miss.best_entry, miss.best_score)
        )
        keys.append(key)
    return sorted(groups, key=lambda g: (-g.count, g.question))


def build(
    knowledge: Knowledge, store: Store, matcher: Matcher | None = None, reread: int | None = None
) -> Report:
    """With a matcher, each missed question (the `reread` most asked, or all) is read again
    by today's FAQ: one it declines by name as not covered shows that, not the entry that
    happened to score best (an irrelevant "best candidate" would invite a maintainer to add
    it there)."""
    votes = store.vote_totals()
    disliked = [
        {"entry_id": entry_id, "down": down, "up": up}
        for entry_id, (up, down) in sorted(votes.items(), key=lambda kv: (-kv[1][1], kv[0]))
        if down
    ]
    asked = store.answer_counts()
    never = [entry_id for entry_id in knowledge.entries if not asked.get(entry_id)]
    groups = group_misses(store.misses())
    if matcher is not None:
        for group in groups[:reread]:
            read = matcher.match(group.question)
            if read.reason == "not-covered":
                group.not_covered = read.about
                group.best_entry = group.best_score = None
    return Report(groups, disliked, never)


def as_json(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=2)


def _cut(lines: list[str], limit: int) -> list[str]:
    """The first `limit` lines, and how many more there are: a list cut short says so."""
    more = len(lines) - limit
    return lines[:limit] + ([f"- …and {more} more"] if more > 0 else [])


def _miss_line(g: MissGroup) -> str:
    extra = f" (+{len(g.variants)} similar)" if g.variants else ""
    if g.not_covered:
        return f"- {g.count}× “{g.question}”{extra} — declined as not covered: {g.not_covered}"
    best = f"{g.best_entry} ({g.best_score:.0f})" if g.best_entry else "none"
    return f"- {g.count}× “{g.question}”{extra} — {g.status}; best candidate: {best}"


def as_markdown(report: Report, limit: int = 50) -> str:
    out = ["# FAQ report", "", "## Questions the FAQ missed (declined or only suggestions)", ""]
    out += _cut([_miss_line(g) for g in report.misses], limit) or ["None recorded."]
    out += ["", "## Entries with the most 👎", ""]
    disliked = [f"- {d['entry_id']}: {d['down']} 👎, {d['up']} 👍" for d in report.disliked]
    out += _cut(disliked, limit) or ["None."]
    out += ["", f"## Entries never matched ({len(report.never_matched)})", ""]
    out += _cut([f"- {e}" for e in report.never_matched], limit) or ["None."]
    return "\n".join(out) + "\n"


PLAUSIBLE = 40.0  # a best candidate scoring below this is a guess, not a suggestion


def left_out(matcher: Matcher, read: Result) -> str | None:
    """Why a missed question, read by today's FAQ, is no phrasing to add; None when it is.

    A phrasing makes its question answered outright (an exact phrasing always is), so only a
    question whose words the FAQ knows, that it does not decline by name, and that is not
    single broad word the matcher deliberately answers with "did you mean" ("summit") is
    proposed."""
    if read.status is Status.ANSWERED:
        return "answered now"
    if read.reason == "not-covered":
        return f"declined by name as not covered ({read.about}): knowledge/not-covered.yaml"
    if read.reason in ("empty", "not-english", "injection") or read.status is Status.SMALLTALK:
        return "not a question about the subject"
    unknown = [w for w in matcher.corrected(read.question) if matcher._is_unknown(w)]
    if unknown:
        return f"no FAQ text uses {', '.join(dict.fromkeys(unknown))}: it needs a new entry"
    tokens = set(matcher.tokens(read.question))
    broad = matcher.thresholds.broad
    if len(tokens) == 1 and matcher.index.breadth.get(next(iter(tokens)), 0) >= broad:
        return f'one word that {broad}+ entries share: a "did you mean" on purpose'
    if read.best is None or read.best.score < PLAUSIBLE:
        return "no entry is close: off the subject, or a new entry"
    return None


def phrasing_snippets(matcher: Matcher, report: Report, min_count: int = 2) -> str:
    """YAML for a maintainer to review and paste: each frequent miss that would then be
    answered right, as a new phrasing of its closest entry (the others close to it named),
    and why each other frequent miss is left out. Nothing is written to knowledge/."""
    knowledge = matcher.knowledge
    by_entry: dict[str, list[tuple[MissGroup, Result]]] = {}
    skipped: list[str] = []
    for group in report.misses:
        if group.count < min_count:
            continue
        read = matcher.match(group.question)
        why = left_out(matcher, read)
        close = [c.entry.id for c in read.candidates]
        if why is None and close:
            # the entry it was closest to when asked, while it is still among the close ones
            entry_id = group.best_entry if group.best_entry in close else close[0]
            by_entry.setdefault(entry_id, []).append((group, read))
        else:
            question = json.dumps(group.question, ensure_ascii=False)
            skipped.append(f"#   {group.count}x {question}: {why or 'no entry is close'}")
    out = (
        ["# Review each phrasing before adding it under the entry's `questions:`.", ""]
        if by_entry
        else ["# No frequent miss would be answered right as a phrasing; nothing to suggest.", ""]
    )
    for entry_id, groups in by_entry.items():
        path, line = knowledge.places[entry_id]
        out.append(f"# {path.parent.name}/{path.name}:{line}")
        out.append(f"  - id: {entry_id}")
        out.append("    questions:")
        for g, read in groups:
            others = [c.entry.id for c in read.candidates if c.entry.id != entry_id]
            also = f"; also close: {', '.join(others)}" if others else ""
            question = json.dumps(g.question, ensure_ascii=False)
            out.append(f"      - {question}  # asked {g.count}x{also}")
        out.append("")
    if skipped:
        out += ["# Left out, as no phrasing of an entry would answer them right:", *skipped, ""]
    return "\n".join(out)
