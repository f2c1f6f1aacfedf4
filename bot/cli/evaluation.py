"""Scoring the matcher on a held-out question set: the number that says whether a change to
phrasings, synonyms or scoring made the bot better for people, not just for one question."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine.matcher import Matcher, Result, Status
from bot.text import fold

DEFAULT_SET = Path(__file__).resolve().parents[2] / "tests" / "eval" / "questions.yaml"


@dataclass(frozen=True)
class Case:
    question: str
    answerable: bool
    group: str  # topic for answerable cases, kind for declined ones
    style: str = ""
    expect: tuple[tuple[str, ...], ...] = ()


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        """'n/a' for an empty tally: a set with nothing to answer scores nothing, not 0%."""
        return f"{self.right}/{self.total} ({self.rate:.1%})" if self.total else "n/a"


@dataclass
class Report:
    answered: Tally = field(default_factory=Tally)
    declined: Tally = field(default_factory=Tally)
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[tuple[Case, Result]] = field(default_factory=list)


class CasesError(ValueError):
    """A file that is not a question set: the CLI says so in one line."""


def load_cases(path: Path = DEFAULT_SET) -> list[Case]:
    """The cases of a set; CasesError when it is not valid YAML of the expected shape,
    OSError when it cannot be read."""
    try:
        return _cases(yaml.safe_load(path.read_text(encoding="utf-8")))
    except UnicodeDecodeError:
        raise CasesError("not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CasesError(f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    except (AttributeError, KeyError, TypeError) as exc:
        raise CasesError(
            "expected 'answerable:' (items with q and expect) and 'declined:' (items with q)"
            f" ({type(exc).__name__}: {exc})"
        ) from None


def _cases(data: dict) -> list[Case]:
    cases = [
        Case(
            item["q"],
            True,
            item.get("topic", "?"),
            item.get("style", "?"),
            tuple(tuple(alt.strip() for alt in str(e).split(" | ")) for e in item["expect"]),
        )
        for item in data.get("answerable", [])
    ]
    cases += [Case(item["q"], False, item.get("kind", "?")) for item in data.get("declined", [])]
    return cases


def comparable(text: str) -> str:
    return fold(text).casefold()


def is_right(case: Case, result: Result) -> bool:
    if not case.answerable:
        return result.status in (Status.DECLINED, Status.SMALLTALK)
    if result.status is not Status.ANSWERED or result.entry is None:
        return False
    return has_expected(case, result.entry.answer)


def has_expected(case: Case, answer: str) -> bool:
    """The eval set's rule: every expected item, in one of its spellings, is in the answer."""
    text = comparable(answer)
    return all(any(comparable(alt) in text for alt in item) for item in case.expect)


def evaluate(matcher: Matcher, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        result = matcher.match(case.question)
        right = is_right(case, result)
        tallies = (
            [report.answered, report.by_topic[case.group], report.by_style[case.style]]
            if case.answerable
            else [report.declined, report.by_kind[case.group]]
        )
        for tally in tallies:
            tally.total += 1
            tally.right += right
        if not right:
            report.misses.append((case, result))
    return report


def format_report(report: Report, *, misses: bool = True) -> str:
    lines = [f"answered right: {report.answered}", f"declined right: {report.declined}", ""]
    for title, table in (
        ("topic", report.by_topic),
        ("style", report.by_style),
        ("kind", report.by_kind),
    ):
        lines.append(f"by {title}:")
        lines += [f"  {name:<16} {tally}" for name, tally in sorted(table.items())]
    if misses and report.misses:
        lines += ["", f"misses ({len(report.misses)}):"]
        for case, result in report.misses:
            got = (
                result.entry.id
                if result.entry
                else ",".join(c.entry.id for c in result.candidates[:3])
            )
            want = (
                " & ".join("|".join(item) for item in case.expect) if case.answerable else "decline"
            )
            lines.append(
                f"  [{case.group}] {case.question!r}\n      -> {result.status} {got} "
                f"({result.score:.0f}); want {want}"
            )
    return "\n".join(lines)
