"""What the service remembers of a question: the maintainers' report is built from it."""

from __future__ import annotations

from pathlib import Path

from bot.engine.matcher import Status
from bot.engine.service import FaqService
from bot.storage import open_store


def test_a_question_the_faq_could_answer_with_its_reason_is_kept_for_the_report(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    """A "why" the entries never give is declined and offered the closest entry; it is exactly
    what a maintainer can add, so it must reach `report` and `suggest`."""
    store = open_store(data_dir=tmp_path)
    service = FaqService(knowledge_copy, store=store)
    question = "why does North Korea block the internet?"
    result = service.ask(question)
    assert (result.status, result.reason) == (Status.DECLINED, "unasked")
    assert [m.text for m in store.misses()] == [question]
