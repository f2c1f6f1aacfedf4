"""The command line as maintainers and scripts use it: `python -m bot ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def bot(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "BOT_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **(env or {})},
        timeout=120,
    )


def test_ask_prints_the_answer_and_its_sources() -> None:
    run = bot("ask", "how many people are in the kwanliso?")
    assert run.returncode == 0
    assert "120,000" in run.stdout
    assert "Sources:" in run.stdout and "https://" in run.stdout and "\u201c" in run.stdout


def test_ask_json_has_every_field() -> None:
    run = bot("ask", "--json", "who is olivia enos")
    data = json.loads(run.stdout)
    assert set(data) == {
        "question",
        "status",
        "answer",
        "entry_id",
        "score",
        "sources",
        "suggestions",
        "why",
    }
    assert data["status"] == "answered" and "Heritage" in data["answer"]
    assert data["why"]["best"]["entry_id"] == data["entry_id"]
    assert 0 <= data["score"] <= 100
    source = data["sources"][0]
    assert {"id", "outlet", "headline", "date", "url", "quote"} <= set(source)


def test_ask_json_says_why_a_near_subject_question_was_declined() -> None:
    data = json.loads(bot("ask", "--json", "how many nuclear weapons does north korea have").stdout)
    assert data["status"] == "declined" and data["answer"] is None
    assert data["why"]["reason"] == "not-covered"
    assert "nuclear weapons" in data["why"]["not_covered"]


def test_ask_json_stdin_answers_one_line_each_in_order() -> None:
    questions = ["who is olivia enos", "what's the weather in paris", "hi", ""]
    run = bot("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert [line["status"] for line in lines] == ["answered", "declined", "smalltalk", "declined"]
    assert lines[1]["answer"] is None and lines[1]["entry_id"] is None


def test_ask_survives_hostile_input() -> None:
    for raw in ["", "😀" * 30, "x" * 10_000, "\x01\x02<script>"]:
        run = bot("ask", "--json", raw)
        assert run.returncode == 0 and "Traceback" not in run.stderr
        assert json.loads(run.stdout)["status"] in {"declined", "smalltalk", "suggest", "answered"}


def test_export_json_and_markdown() -> None:
    data = json.loads(bot("export", "--format", "json").stdout)
    assert len(data["sources"]) == 5 and len(data["entries"]) >= 70
    entry = data["entries"][0]
    assert set(entry) == {"id", "topic", "questions", "answer", "citations"}
    markdown = bot("export", "--format", "markdown").stdout
    assert (
        markdown.startswith("# ") and "## Political prison camps" in markdown and "> “" in markdown
    )


def test_eval_prints_figures_per_topic_and_style() -> None:
    run = bot("eval", "--quiet")
    assert run.returncode == 0
    for label in ("answered right:", "declined right:", "by topic:", "by style:", "camps"):
        assert label in run.stdout


def test_chat_is_the_same_engine_in_a_terminal() -> None:
    run = bot("chat", stdin="hello\nhow many people are in the prison camps?\nsanctions\n1\nquit\n")
    assert run.returncode == 0
    assert "Hello!" in run.stdout and "120,000" in run.stdout
    assert "Did you mean" in run.stdout and run.stdout.count("Sources:") >= 2


def test_run_without_a_token_starts_the_console_chat() -> None:
    run = bot("run", stdin="who is olivia enos\n")
    assert run.returncode == 0 and "Heritage" in run.stdout
    assert "console" in run.stderr


def test_a_malformed_setting_is_one_line_and_exit_2() -> None:
    for env in (
        {"BOT_ADMIN_IDS": "alice,bob"},
        {"TELEGRAM_API_URL": "ftp://x"},
        {"TELEGRAM_BOT_TOKEN": "nonsense"},
    ):
        run = bot("run", env=env)
        assert run.returncode == 2, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_webhook_mode_without_a_secret_is_refused() -> None:
    run = bot(
        "run",
        "--webhook",
        env={"TELEGRAM_BOT_TOKEN": "1:abc", "WEBHOOK_URL": "https://example.org/hook"},
    )
    assert run.returncode == 2 and "WEBHOOK_SECRET" in run.stderr


def test_run_with_a_broken_faq_names_the_problems_and_exits_1(minimal_knowledge) -> None:
    root = minimal_knowledge()
    faq = root / "faq" / "camps.yaml"
    faq.write_text(faq.read_text().replace("source: time", "source: timez", 1))
    run = bot(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",
            "KNOWLEDGE_DIR": str(root),
            "BOT_DATA_DIR": str(root / "data"),
        },
    )
    assert run.returncode == 1
    assert "camps.yaml:" in run.stderr and "unknown source 'timez'" in run.stderr
    assert "Traceback" not in run.stderr
