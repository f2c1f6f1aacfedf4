"""A benchmark that prints figures (not a test: machines are noisy; compare ratios of one run).

For the real FAQ and for synthetic ones 10, 100 and 1000 times larger (entries cloned from the
real ones with their wording shuffled and new words added, so the vocabulary grows too), it
measures per-question match time, build time, peak memory and process start to first answer,
for the matcher and for a naive baseline (`process.extractOne` with WRatio over the raw
phrasings). Each measurement runs in its own process so that peak memory means something.

The start-up line times what a user waits for: `python -m bot ask QUESTION` as a whole process
(from the start-up cache, as every start after the first; and without it) against the naive
script as a whole process (PyYAML's libyaml loader, then rapidfuzz `process.extractOne` with
WRatio), alternated in one run."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bot.cli import evaluation
from bot.engine import knowledge as kb
from bot.engine import startcache
from bot.engine.matcher import Matcher
from bot.engine.models import Entry

ROOT = Path(__file__).resolve().parents[2]


def synthetic(knowledge: kb.Knowledge, factor: int) -> kb.Knowledge:
    if factor == 1:
        return knowledge
    rng = random.Random(factor)
    entries: dict[str, Entry] = {}
    for copy in range(factor):
        for entry in knowledge.entries.values():
            questions = []
            for q in entry.questions:
                words = q.split()
                rng.shuffle(words)
                questions.append(" ".join([*words, f"zq{copy}x{rng.randrange(10_000)}"]))
            clone = entry.model_copy(update={"id": f"{entry.id}-{copy}", "questions": questions})
            entries[clone.id] = clone
    return dataclasses.replace(knowledge, entries=entries)


class Naive:
    """What one would write first: the best WRatio over every phrasing, no decisions."""

    def __init__(self, knowledge: kb.Knowledge) -> None:
        self.phrasings = [
            utils.default_process(q) for e in knowledge.entries.values() for q in e.questions
        ]
        self.owners = [e for e in knowledge.entries.values() for _ in e.questions]

    def match(self, question: str) -> tuple[Entry | None, float]:
        hit = process.extractOne(
            question, self.phrasings, scorer=fuzz.WRatio, processor=utils.default_process
        )
        return (self.owners[hit[2]], hit[1]) if hit else (None, 0.0)


def worker(engine: str, factor: int, limit: int) -> dict[str, float]:
    """One measurement, in this process; prints JSON for the parent."""
    cases = evaluation.load_cases(evaluation.DEFAULT_SET)
    questions = [c.question for c in cases]
    t0 = float(os.environ.get("BENCH_T0", time.time()))
    built = time.perf_counter()
    knowledge = synthetic(kb.load(kb.DEFAULT_DIR, cache=False), factor)  # built, not cached
    matcher = Matcher(knowledge) if engine == "matcher" else Naive(knowledge)
    build_s = time.perf_counter() - built
    matcher.match(questions[0])
    first_answer_s = time.time() - t0
    timings = []
    for question in questions[:limit]:
        started = time.perf_counter()
        matcher.match(question)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result = {
        "entries": len(knowledge.entries),
        "phrasings": sum(len(e.questions) for e in knowledge.entries.values()),
        "build_s": build_s,
        "first_answer_s": first_answer_s,
        "median_ms": statistics.median(timings),
        "p99_ms": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if factor == 1 and engine == "naive":
        result.update(naive_accuracy(matcher, cases))
    return result


def naive_accuracy(naive: Naive, cases: list[evaluation.Case]) -> dict[str, float]:
    """The baseline answers everything; scored with the eval set's rules for comparison."""
    right = total = declined = off = 0
    for case in cases:
        entry, score = naive.match(case.question)
        if case.answerable:
            total += 1
            right += entry is not None and evaluation.has_expected(case, entry.answer)
        else:
            off += 1
            declined += score < 90  # even a generous cut-off for "no answer"
    return {"answered_right": right / total, "declined_right": declined / off}


def measure(engine: str, factor: int, limit: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_T0": repr(time.time())}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--worker", engine, str(factor), str(limit)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    return json.loads(run.stdout)


# What one would write first, as a whole program: read the FAQ, answer with the best WRatio.
NAIVE_SCRIPT = """\
import sys
from pathlib import Path
import yaml
from rapidfuzz import fuzz, process, utils
phrasings, answers = [], []
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    for entry in yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["entries"]:
        for question in entry["questions"]:
            phrasings.append(question)
            answers.append(entry["answer"])
hit = process.extractOne(
    sys.argv[2], phrasings, scorer=fuzz.WRatio, processor=utils.default_process
)
print(answers[hit[2]])
"""
START_QUESTION = "what is the kwanliso"
START_GOAL = 6.0  # issue 24: `ask` at most six times the naive script


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def start_up(runs: int = 5) -> dict[str, float]:
    """Median wall time of each whole process, the three alternated so that a busy machine
    slows each alike. The cache is a fresh folder, filled by one untimed `ask` first."""
    ask = [sys.executable, "-m", "bot", "ask", START_QUESTION]
    naive = [sys.executable, "-c", NAIVE_SCRIPT, str(kb.DEFAULT_DIR / "faq"), START_QUESTION]
    with tempfile.TemporaryDirectory(prefix="nkbot-bench-cache-") as cache:
        cached = {**os.environ, startcache.ENV: cache}
        uncached = {**os.environ, startcache.ENV: "off"}
        _wall(ask, cached)
        times: dict[str, list[float]] = {"ask": [], "ask_uncached": [], "naive": []}
        for _ in range(runs):
            times["ask"].append(_wall(ask, cached))
            times["ask_uncached"].append(_wall(ask, uncached))
            times["naive"].append(_wall(naive, dict(os.environ)))
    return {name: statistics.median(values) for name, values in times.items()}


def print_start_up() -> None:
    print("[start-up] timing whole processes…", file=sys.stderr, flush=True)
    t = start_up()
    ratio = t["ask"] / t["naive"]
    verdict = "within" if ratio <= START_GOAL else "OVER"
    print(
        f"\nstart-up, process start to answer (median of 5, s): ask {t['ask']:.3f} "
        f"(without the start-up cache {t['ask_uncached']:.3f}), naive script {t['naive']:.3f}; "
        f"ask/naive {ratio:.2f} ({verdict} the goal of {START_GOAL:g}), "
        f"uncached {t['ask_uncached'] / t['naive']:.2f}"
    )


def main(factors: list[int], limit: int) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; times in ms unless marked")
    header = (
        f"{'size':>6} {'entries':>8} {'engine':<8} {'median':>8} {'p99':>8} {'build s':>8} "
        f"{'start→1st s':>11} {'peak MB':>8}"
    )
    print(header, flush=True)
    rows: dict[tuple[str, int], dict[str, float]] = {}
    for n, factor in enumerate(factors, 1):
        questions = limit if factor < 1000 else max(20, limit // 5)
        for engine in ("matcher", "naive"):
            # Progress on stderr, so that stdout stays the table: a size can take minutes.
            print(
                f"[{n}/{len(factors)}] x{factor}: timing the {engine} on {questions} questions…",
                file=sys.stderr,
                flush=True,
            )
            r = rows[engine, factor] = measure(engine, factor, questions)
            print(
                f"{'x' + str(factor):>6} {r['entries']:>8} {engine:<8} {r['median_ms']:>8.2f} "
                f"{r['p99_ms']:>8.2f} {r['build_s']:>8.2f} {r['first_answer_s']:>11.2f} "
                f"{r['peak_mb']:>8.0f}",
                flush=True,
            )
    print("\nratios matcher/naive (same run):")
    for factor in factors:
        m, n = rows["matcher", factor], rows["naive", factor]
        print(
            f"  x{factor:<5} median {m['median_ms'] / n['median_ms']:.2f}  p99 "
            f"{m['p99_ms'] / n['p99_ms']:.2f}  peak memory {m['peak_mb'] / n['peak_mb']:.2f}  "
            f"start→first answer {m['first_answer_s'] / n['first_answer_s']:.2f}"
        )
    print_start_up()
    if 1 in factors:
        naive = rows["naive", 1]
        print(
            f"\nnaive baseline on the eval set: answered right {naive['answered_right']:.1%}, "
            f"declined right {naive['declined_right']:.1%} (matcher: `python -m bot eval`)"
        )
