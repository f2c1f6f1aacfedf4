"""What the FAQ missed, what users disliked, and what nobody asked: the maintainers' to-do list.

Near-identical questions are grouped with rapidfuzz so that "how old is kim" and "how old is
Kim??" count as one row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from rapidfuzz import fuzz, process

from bot.engine.knowledge import Knowledge
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


def build(knowledge: Knowledge, store: Store) -> Report:
    votes = store.vote_totals()
    disliked = [
        {"entry_id": entry_id, "down": down, "up": up}
        for entry_id, (up, down) in sorted(votes.items(), key=lambda kv: (-kv[1][1], kv[0]))
        if down
    ]
    asked = store.answer_counts()
    never = [entry_id for entry_id in knowledge.entries if not asked.get(entry_id)]
    return Report(group_misses(store.misses()), disliked, never)


def as_json(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=2)


def as_markdown(report: Report, limit: int = 50) -> str:
    out = ["# FAQ report", "", "## Questions the FAQ missed (declined or only suggestions)", ""]
    if not report.misses:
        out.append("None recorded.")
    for g in report.misses[:limit]:
        best = f"{g.best_entry} ({g.best_score:.0f})" if g.best_entry else "none"
        extra = f" (+{len(g.variants)} similar)" if g.variants else ""
        out.append(f"- {g.count}× “{g.question}”{extra} — {g.status}; best candidate: {best}")
    out += ["", "## Entries with the most 👎", ""]
    out += [
        f"- {d['entry_id']}: {d['down']} 👎, {d['up']} 👍" for d in report.disliked[:limit]
    ] or ["None."]
    out += ["", f"## Entries never matched ({len(report.never_matched)})", ""]
    out += [f"- {e}" for e in report.never_matched[:limit]] or ["None."]
    return "\n".join(out) + "\n"


PLAUSIBLE = 40.0  # a best candidate scoring below this is a guess, not a suggestion


def phrasing_snippets(knowledge: Knowledge, report: Report, min_count: int = 2) -> str:
    """YAML for a maintainer to review and paste: each frequent miss as a new phrasing of its
    most plausible entry. Nothing is written to knowledge/."""
    by_entry: dict[str, list[MissGroup]] = {}
    for group in report.misses:
        if (
            group.count >= min_count
            and group.best_entry in knowledge.entries
            and (group.best_score or 0) >= PLAUSIBLE
        ):
            by_entry.setdefault(group.best_entry, []).append(group)
    if not by_entry:
        return "# No frequent miss has a plausible entry; nothing to suggest.\n"
    out = ["# Review each phrasing before adding it under the entry's `questions:`.", ""]
    for entry_id, groups in by_entry.items():
        path, line = knowledge.places[entry_id]
        out.append(f"# {path.parent.name}/{path.name}:{line}")
        out.append(f"  - id: {entry_id}")
        out.append("    questions:")
        for g in groups:
            out.append(f"      - {json.dumps(g.question, ensure_ascii=False)}  # asked {g.count}x")
        out.append("")
    return "\n".join(out)
