"""Shared fixtures: the real knowledge base (loaded once) and throwaway copies to break."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import knowledge as kb
from bot.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def knowledge() -> kb.Knowledge:
    return kb.load(KNOWLEDGE)


@pytest.fixture(scope="session")
def matcher(knowledge: kb.Knowledge) -> Matcher:
    return Matcher(knowledge)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A full, valid copy of knowledge/ that a test may edit or break."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


MINIMAL_FAQ = """\
topic:
  id: camps
  title: Political prison camps
  summary: The kwan-li-so and who is held there.
entries:
  - id: camps-how-many
    questions:
      - How many people are held in the political prison camps?
      - kwanliso numbers
    answer: >-
      As of February 2019, Amnesty International USA wrote that up to 120,000 people were held
      in four known political prison camps.
    citations:
      - source: time
        quote: "Up to 120,000 people remain in detention in four known political prison camps"
  - id: camps-denial
    questions:
      - Does North Korea admit the camps exist?
    answer: >-
      Amnesty International USA wrote in February 2019 that the North Korean government
      continues to deny that the camps exist.
    citations:
      - source: time
        quote: "The North Korean government, however, continues to deny that they exist."
"""


@pytest.fixture
def minimal_knowledge(tmp_path: Path) -> Callable[[str], Path]:
    """A knowledge dir with the real sources and one FAQ file of the test's choosing."""

    def make(faq_yaml: str = MINIMAL_FAQ, name: str = "camps.yaml") -> Path:
        root = tmp_path / "kb"
        if not root.exists():
            (root / "faq").mkdir(parents=True)
            shutil.copy(KNOWLEDGE / "sources.yaml", root / "sources.yaml")
            shutil.copytree(KNOWLEDGE / "sources", root / "sources")
        (root / "faq" / name).write_text(textwrap.dedent(faq_yaml), encoding="utf-8")
        return root

    return make
