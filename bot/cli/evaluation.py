"""Scoring the matcher on a held-out question set: the number that says whether a change to
phrasings, synonyms or scoring made the bot better for people, not just for one question."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine.matcher import Matcher, Result, Status
from bot.text import fold

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SET = ROOT / "tests" / "eval" / "questions.yaml"


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
    """`answered`: answered right directly; `shown`: right answer shown or one tap away
    (answered right, or a "did you mean" / "Not what you asked?" choice holding a right entry),
    both of answerable questions; `declined`: of questions to decline; `wrong`: an answer
    without the expected fact, or any answer to a question to decline, of all questions."""

    answered: Tally = field(default_factory=Tally)
    shown: Tally = field(default_factory=Tally)
    declined: Tally = field(default_factory=Tally)
    wrong: Tally = field(default_factory=Tally)
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[tuple[Case, Result]] = field(default_factory=list)


class CasesError(ValueError):
    """A file that is not a question set: the CLI says so in one line."""


def is_frozen(path: Path) -> bool:
    """A set whose header (its leading comment lines, however many) says FROZEN: only its
    totals may be looked at. real-test.yaml says so on its eleventh line."""
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    return False
                if "FROZEN" in line:
                    return True
    except (OSError, UnicodeDecodeError):
        return False
    return False


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


def answer_text(result: Result) -> str:
    """Everything an answer shows: each part of a multi-part question."""
    return "\n".join(entry.answer for entry in result.entries)


def is_right(case: Case, result: Result) -> bool:
    if not case.answerable:
        return result.status in (Status.DECLINED, Status.SMALLTALK)
    if result.status is not Status.ANSWERED or result.entry is None:
        return False
    return has_expected(case, answer_text(result))


def is_wrong(case: Case, result: Result) -> bool:
    """An answer the reader would take as the bot's word and that is not right."""
    return result.status is Status.ANSWERED and not is_right(case, result)


def one_tap(case: Case, result: Result) -> bool:
    """Answered right, or a choice offered with it (or instead of it, or with a decline)
    holds a right entry."""
    if not case.answerable:
        return False
    if is_right(case, result):
        return True
    offered = result.candidates if result.status is Status.SUGGEST else result.alternatives
    return any(has_expected(case, c.entry.answer) for c in offered)


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
        if case.answerable:
            report.shown.total += 1
            report.shown.right += one_tap(case, result)
        report.wrong.total += 1
        report.wrong.right += is_wrong(case, result)
        if not right:
            report.misses.append((case, result))
    return report


def totals(report: Report) -> list[str]:
    """The three figures that say whether users can trust the bot, always together, and the
    direct answers beside them."""
    return [
        f"wrong answers: {report.wrong} of all questions",
        f"right shown or one tap away: {report.shown} of answerable",
        f"declined right: {report.declined}",
        f"answered right: {report.answered}",
    ]


def format_report(report: Report, *, misses: bool = True, details: bool = True) -> str:
    """`details` False: the totals only (a frozen set's topics and styles say too much)."""
    lines = totals(report)
    if not details:
        return "\n".join(lines)
    lines.append("")
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
            mark = "WRONG " if is_wrong(case, result) else ""
            lines.append(
                f"  [{case.group}] {case.question!r}\n      -> {mark}{result.status} {got} "
                f"({result.score:.0f}); want {want}"
            )
    return "\n".join(lines)
