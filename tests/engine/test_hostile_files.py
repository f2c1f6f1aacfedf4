"""Knowledge files written to hurt: each is refused quickly, with file:line, by `validate` and by
the loader the running bot uses, and nothing vanishing mid-check breaks a reload."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import BOMB, MINIMAL_FAQ, ROOT

from bot.engine import knowledge as kb
from bot.engine.service import FaqService, fingerprint


def refused(root: Path, seconds: float = 5) -> list[str]:
    started = time.monotonic()
    with pytest.raises(kb.KnowledgeError) as caught:
        kb.load(root)
    assert time.monotonic() - started < seconds
    return [str(p) for p in caught.value.problems]


def test_the_alias_bomb_is_refused_at_once_by_the_loader(minimal_knowledge) -> None:
    assert len(BOMB.encode()) == 342
    root = minimal_knowledge()
    (root / "faq" / "bomb.yaml").write_text(BOMB, encoding="utf-8")
    problems = refused(root, seconds=2)
    assert any("bomb.yaml:1:" in p and "aliases" in p for p in problems), problems


def test_validate_refuses_the_bomb_without_growing(minimal_knowledge) -> None:
    root = minimal_knowledge()
    (root / "faq" / "bomb.yaml").write_text(BOMB, encoding="utf-8")
    limit = 1024**3  # the bomb took 6 GB; validating the real FAQ needs about 100 MB

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    run = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        preexec_fn=cap,
    )
    assert run.returncode == 1, run.stderr
    assert "bomb.yaml:1:" in run.stderr and "aliases" in run.stderr


def test_an_anchor_in_an_entry_is_refused_with_its_line(minimal_knowledge) -> None:
    faq = MINIMAL_FAQ.replace("    citations:\n", "    citations: &cites\n", 1)
    problems = refused(minimal_knowledge(faq))
    line = faq.splitlines().index("    citations: &cites") + 1
    assert any(f"camps.yaml:{line}:" in p and "anchors" in p for p in problems), problems


def test_deep_nesting_is_refused(minimal_knowledge) -> None:
    root = minimal_knowledge()
    (root / "faq" / "deep.yaml").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    problems = refused(root)
    assert any("deep.yaml:1:" in p and "nested" in p for p in problems), problems


def test_a_5_mb_file_is_refused_by_its_size(minimal_knowledge) -> None:
    root = minimal_knowledge()
    entry = MINIMAL_FAQ.split("entries:\n", 1)[1]
    big = MINIMAL_FAQ + entry * (5 * 1024 * 1024 // len(entry))
    (root / "faq" / "camps.yaml").write_text(big, encoding="utf-8")
    problems = refused(root, seconds=2)
    assert any("camps.yaml:1:" in p and "at most 256 KB" in p for p in problems), problems


def test_many_files_are_refused_by_their_total_size(minimal_knowledge) -> None:
    root = minimal_knowledge()
    filler = "# " + "x" * 200 + "\n"
    for i in range(6):  # each under the per-file limit, together over the total
        text = MINIMAL_FAQ.replace("id: camps", f"id: camps{i}") + filler * 1000
        (root / "faq" / f"part{i}.yaml").write_text(text, encoding="utf-8")
    problems = refused(root, seconds=2)
    assert any("at most 1024 KB are loaded" in p for p in problems), problems


def test_files_vanishing_during_a_check_do_not_break_it(knowledge_copy: Path) -> None:
    """An editor's temporary files come and go while the bot looks at the folder."""
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            for i in range(20):
                (knowledge_copy / "faq" / f".camps.yaml.{i}.swp").write_text("x")
            for i in range(20):
                (knowledge_copy / "faq" / f".camps.yaml.{i}.swp").unlink()

    editor = threading.Thread(target=churn)
    editor.start()
    try:
        service = FaqService(knowledge_copy)
        for _ in range(200):
            fingerprint(knowledge_copy)
        assert service.reload().ok
    finally:
        stop.set()
        editor.join()


def test_a_named_pipe_posing_as_a_faq_file_is_refused_not_waited_on(minimal_knowledge) -> None:
    root = minimal_knowledge()
    os.mkfifo(root / "faq" / "pipe.yaml")
    problems = refused(root, seconds=5)
    assert any("pipe.yaml:1:" in p and "not a regular file" in p for p in problems), problems
