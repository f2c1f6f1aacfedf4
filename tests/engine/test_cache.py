"""The start-up cache: an unchanged FAQ starts from it, and nothing that does not match the
files and the code is ever used (a changed file or synonym, a corrupt, foreign or stale cache,
two processes starting at once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from bot.engine import knowledge as kb
from bot.engine import startcache
from bot.engine.matcher import Matcher, Status


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv(startcache.ENV, str(where))
    return where


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders really parsed and checked (not started from the cache), in order."""
    seen: list[Path] = []
    real = kb._build

    def counted(root: Path) -> kb.Knowledge:
        seen.append(root)
        return real(root)

    monkeypatch.setattr(kb, "_build", counted)
    return seen


def cache_file(cache_dir: Path) -> Path:
    (path,) = cache_dir.glob("knowledge-*.json")
    return path


def test_an_unchanged_faq_starts_from_the_cache_with_the_same_knowledge(
    knowledge_copy: Path, cache_dir: Path, builds: list[Path]
) -> None:
    first = kb.load(knowledge_copy)
    second = kb.load(knowledge_copy)
    assert builds == [knowledge_copy]  # the second came from the cache
    assert second.entries == first.entries and second.sources == first.sources
    assert second.topics == first.topics and second.outside == first.outside
    assert second.places == first.places and second.reviews == first.reviews
    assert second.normalizer == first.normalizer
    question = "what is the kwanliso"
    a, b = Matcher(first).match(question), Matcher(second).match(question)
    assert (a.status, a.entry, a.score) == (b.status, b.entry, b.score)


def test_a_changed_answer_is_loaded_not_the_cached_one(
    knowledge_copy: Path, cache_dir: Path, builds: list[Path]
) -> None:
    kb.load(knowledge_copy)
    camps = knowledge_copy / "faq" / "camps.yaml"
    text = camps.read_text(encoding="utf-8")
    said = "Kwan-li-so is the name by which"
    assert said in text
    camps.write_text(text.replace(said, "Kwan-li-so is the word by which", 1), encoding="utf-8")
    answer = kb.load(knowledge_copy).entries["camps-what-are-they"].answer
    assert answer.startswith("Kwan-li-so is the word by which")
    assert len(builds) == 2


def test_a_changed_synonym_changes_the_matching(knowledge_copy: Path, cache_dir: Path) -> None:
    question = "what are the zorbluks"
    assert Matcher(kb.load(knowledge_copy)).match(question).status is not Status.ANSWERED
    synonyms = knowledge_copy / "synonyms.yaml"
    text = synonyms.read_text(encoding="utf-8")
    assert "kwanliso: [kwan-li-so," in text
    synonyms.write_text(text.replace("kwanliso: [kwan-li-so,", "kwanliso: [zorbluks, kwan-li-so,"))
    knowledge = kb.load(knowledge_copy)
    assert knowledge.normalizer.text("zorbluks") == knowledge.normalizer.text("kwanliso")
    result = Matcher(knowledge).match(question)
    assert result.status is Status.ANSWERED and result.entry.id.startswith("camps-")


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "payload-flipped", "other-code", "other-format", "empty", "not-json"],
)
def test_a_damaged_or_stale_cache_is_ignored_and_rewritten(
    knowledge_copy: Path, cache_dir: Path, builds: list[Path], damage: str
) -> None:
    fresh = kb.load(knowledge_copy)
    path = cache_file(cache_dir)
    raw = path.read_bytes()
    head, _, payload = raw.partition(b"\n")
    header = json.loads(head)
    if damage == "garbage":
        path.write_bytes(b"\x00\xff" * 5000)
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "payload-flipped":  # still JSON, still the right header: the checksum says no
        path.write_bytes(head + b"\n" + payload.replace(b"kwan-li-so", b"kwan-li-SO", 1))
    elif damage == "other-code":
        path.write_bytes(json.dumps({**header, "code": "0" * 64}).encode() + b"\n" + payload)
    elif damage == "other-format":
        path.write_bytes(json.dumps({**header, "format": "v0"}).encode() + b"\n" + payload)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"{not json\n[1, 2")
    again = kb.load(knowledge_copy)
    assert len(builds) == 2  # not taken from the damaged file
    assert again.entries == fresh.entries
    assert path.read_bytes() == raw  # rewritten whole
    kb.load(knowledge_copy)
    assert len(builds) == 2


def test_a_cache_of_a_valid_but_wrong_shape_is_ignored(
    knowledge_copy: Path, cache_dir: Path, builds: list[Path]
) -> None:
    """Ours by its header and checksum, but not what the models accept (a bug, a hand edit):
    validated again, refused, rebuilt."""
    kb.load(knowledge_copy)
    path = cache_file(cache_dir)
    payload = json.loads(path.read_bytes().partition(b"\n")[2])
    payload["entries"][0]["answer"] = ""
    body = json.dumps(payload).encode()
    header = startcache._header(startcache.content_version(knowledge_copy), body)
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert all(e.answer for e in kb.load(knowledge_copy).entries.values())
    assert len(builds) == 2


def test_a_foreign_cache_is_not_used(
    knowledge_copy: Path, minimal_knowledge, cache_dir: Path, builds: list[Path]
) -> None:
    """Another FAQ's cache file put in this one's place (a copied home folder, a renamed
    checkout) is not this FAQ: its entries never show."""
    other = minimal_knowledge()
    kb.load(other)
    foreign = cache_file(cache_dir)
    kb.load(knowledge_copy)
    mine = next(p for p in cache_dir.glob("knowledge-*.json") if p != foreign)
    mine.write_bytes(foreign.read_bytes())
    assert len(kb.load(knowledge_copy).entries) > 2
    assert len(builds) == 3


def test_a_refused_faq_is_refused_even_after_a_good_start(
    knowledge_copy: Path, cache_dir: Path
) -> None:
    kb.load(knowledge_copy)
    camps = knowledge_copy / "faq" / "camps.yaml"
    camps.write_text(camps.read_text(encoding="utf-8") + "  - id: camps-x\n", encoding="utf-8")
    with pytest.raises(kb.KnowledgeError):
        kb.load(knowledge_copy)
    with pytest.raises(kb.KnowledgeError):  # and the refusal was not cached either
        kb.load(knowledge_copy)


def test_an_unwritable_cache_folder_means_running_without_one(
    knowledge_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[Path]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(startcache.ENV, str(blocker / "cache"))
    first, second = kb.load(knowledge_copy), kb.load(knowledge_copy)
    assert first.entries == second.entries and len(builds) == 2
    monkeypatch.setenv(startcache.ENV, "off")
    kb.load(knowledge_copy)
    assert len(builds) == 3


def ask_process(cache: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json", *args],
        cwd=ROOT,
        env={**os.environ, startcache.ENV: str(cache)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_starting_at_once_share_one_sound_cache(
    knowledge_copy: Path, cache_dir: Path, builds: list[Path]
) -> None:
    """Four processes find no cache, build and write it at the same moment: each answers,
    and the file left behind is whole and used by the next start."""
    procs = [
        ask_process(cache_dir, "--knowledge", str(knowledge_copy), "what is the kwanliso")
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    answers = {json.loads(out)["entry_id"] for out, _ in outputs}
    assert len(answers) == 1, answers
    assert not list(cache_dir.glob(".tmp-*"))  # no half-written file left behind
    kb.load(knowledge_copy)
    assert builds == []  # this process started from what they wrote


def test_a_plain_question_does_not_read_the_english_word_list(cache_dir: Path) -> None:
    """Only a word that may be a typo needs the 12 MB list; a start from the cache knows
    the FAQ's own words without it."""
    probe = (
        "from bot.engine import knowledge as kb, normalize\n"
        "from bot.engine.matcher import Matcher\n"
        "m = Matcher(kb.load())\n"
        "m.match('what is the kwanliso')\n"
        "print(normalize.english_words().loaded)\n"
        "m.match('what is the kwanlisso')\n"
        "print(normalize.english_words().loaded)\n"
    )
    env = {**os.environ, startcache.ENV: str(cache_dir)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert runs[1].returncode == 0, runs[1].stderr
    assert runs[1].stdout.split() == ["False", "True"]


def test_a_fifo_or_a_huge_file_in_the_folder_is_never_read_for_the_cache(
    knowledge_copy: Path, cache_dir: Path
) -> None:
    """Hashing the folder must not block on a named pipe nor read a huge file whole: the
    loader ignores the first and refuses the second by its size alone."""
    os.mkfifo(knowledge_copy / "notes.fifo")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(knowledge_copy)],
        cwd=ROOT,
        env={**os.environ, startcache.ENV: str(cache_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    with open(knowledge_copy / "faq" / "huge.yaml", "wb") as f:
        f.truncate(64 * 1024**3)  # 64 GB, sparse: reading it whole would never end
    started = time.monotonic()
    with pytest.raises(kb.KnowledgeError) as caught:
        kb.load(knowledge_copy)
    assert time.monotonic() - started < 10
    assert any("huge.yaml" in str(p) and "KB" in str(p) for p in caught.value.problems)
