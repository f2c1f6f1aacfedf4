"""The command line as maintainers and scripts use it: `python -m bot ...`."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
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
        "understood",
        "parts",
        "not_what_you_asked",
        "why",
    }
    assert data["status"] == "answered" and "Heritage" in data["answer"]
    assert data["understood"] and data["understood"].endswith("?")
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


def test_chat_is_the_same_engine_in_a_terminal(tmp_path: Path) -> None:
    run = bot(
        "chat",
        stdin="hello\nhow many people are in the prison camps?\nsummit\n1\nquit\n",
        env={"BOT_DATA_DIR": str(tmp_path)},
    )
    assert run.returncode == 0
    assert "Hello!" in run.stdout and "120,000" in run.stdout
    assert "Did you mean" in run.stdout and run.stdout.count("Sources:") >= 2


@pytest.mark.parametrize("args", [("run",), ("run", "--webhook")])
def test_run_without_a_token_under_a_supervisor_fails_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Under a Procfile platform or systemd stdin is no terminal: exit 0 with a console
    welcome would read as "done" and the bot would silently never run."""
    data = tmp_path / "data"
    run = bot(*args, stdin="who is olivia enos\n", env={"BOT_DATA_DIR": str(data)})
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr == "configuration error: TELEGRAM_BOT_TOKEN is not set\n"
    assert run.stdout == "" and not data.exists()


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


# -- as a newcomer meets it: no tracebacks, their paths, help everywhere ---------------------------
def one_line_error(run: subprocess.CompletedProcess[str], code: int) -> None:
    assert run.returncode == code, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_eval_of_a_missing_file_is_one_line_and_exit_2() -> None:
    run = bot("eval", "nonexistent.yaml")
    one_line_error(run, 2)
    assert "nonexistent.yaml" in run.stderr and "No such file" in run.stderr


def test_eval_of_a_file_that_is_not_a_question_set_is_one_line(tmp_path: Path) -> None:
    for text in ("answerable: [", "- just\n- a list\n", "answerable:\n  - q: no expect\n"):
        path = tmp_path / "set.yaml"
        path.write_text(text, encoding="utf-8")
        one_line_error(bot("eval", str(path)), 2)


def test_eval_without_answerable_questions_says_n_a(tmp_path: Path) -> None:
    path = tmp_path / "declines.yaml"
    path.write_text("declined:\n  - q: what is the weather in paris\n    kind: off-topic\n")
    run = bot("eval", str(path))
    assert run.returncode == 0, run.stderr
    assert "answered right: n/a" in run.stdout and "0/0" not in run.stdout
    assert "declined right: 1/1 (100.0%)" in run.stdout


@pytest.mark.parametrize(
    "command",
    [
        "export --format markdown | head -c1",
        "export | head -c1",
        "ask what is the kwanliso | true",
        "brief --topic camps | true",
        "ask --json - < <(yes who is olivia enos | head -n 300) | head -c1",
    ],
)
def test_output_cut_short_by_a_pipe_is_no_traceback(command: str) -> None:
    run = subprocess.run(
        ["bash", "-c", f"set -o pipefail; python -m bot {command}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        timeout=120,
    )
    assert run.stderr == "", run.stderr
    assert run.returncode in (0, 141)  # 141: the reader left first, as `yes | head` reports


def test_a_bot_data_dir_that_is_a_file_is_one_line_and_exit_3(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("oops")
    for command in (["report"], ["suggest"], ["chat"]):
        run = bot(*command, stdin="hello\n", env={"BOT_DATA_DIR": str(not_a_folder)})
        one_line_error(run, 3)
        assert run.stderr.startswith("storage error:") and "not a folder" in run.stderr


def test_report_on_a_fresh_clone_creates_nothing_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = bot("report", env={"BOT_DATA_DIR": str(data)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("No questions recorded yet") and len(run.stdout.splitlines()) == 1
    assert not data.exists()
    as_json = bot("report", "--format", "json", env={"BOT_DATA_DIR": str(data)})
    assert json.loads(as_json.stdout)["misses"] == [] and not data.exists()


def test_report_json_ends_with_a_newline(tmp_path: Path) -> None:
    from bot.storage import SQLiteStore

    store = SQLiteStore(tmp_path / "bot.sqlite3")
    store.record_miss("how old is kim jong un", "declined", None, None)
    store.close()
    run = bot("report", "--format", "json", "--data-dir", str(tmp_path))
    assert run.returncode == 0 and run.stdout.endswith("}\n")
    assert json.loads(run.stdout)["misses"][0]["count"] == 1


def test_ask_needs_no_quotes() -> None:
    run = bot("ask", "what", "is", "the", "kwanliso")
    assert run.returncode == 0, run.stderr
    assert "Sources:" in run.stdout and "political" in run.stdout.lower()


def test_options_work_after_the_subcommand(minimal_knowledge) -> None:
    root = minimal_knowledge()
    run = bot("ask", "--json", "-", "--knowledge", str(root), stdin="kwanliso numbers\n")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["entry_id"] == "camps-how-many"
    assert bot("validate", "--knowledge", str(root)).stdout.startswith("2 entries in 1 topics")


def test_paths_are_the_callers_not_the_repositorys(minimal_knowledge, tmp_path: Path) -> None:
    root = minimal_knowledge()
    run = subprocess.run(
        [str(ROOT / "bin" / "bot"), "validate", root.name],
        capture_output=True,
        text=True,
        cwd=root.parent,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("2 entries in 1 topics")
    usage = subprocess.run(
        [str(ROOT / "bin" / "bot"), "ask", "--help"],
        capture_output=True,
        text=True,
        cwd=root.parent,
        timeout=300,
    )
    assert usage.stdout.startswith(f"usage: {ROOT / 'bin' / 'bot'} ask ")


def test_version_and_help_subcommand() -> None:
    version = bot("--version")
    assert version.returncode == 0 and re.fullmatch(
        r"python -m bot \d+\.\d+\.\d+\n", version.stdout
    )
    overview = bot("help")
    assert overview.returncode == 0 and overview.stdout.startswith("usage: python -m bot ")
    for command in ("chat", "ask", "validate", "export", "eval", "report", "bench", "help"):
        assert f"    {command} " in overview.stdout
    ask = bot("help", "ask")
    assert ask.returncode == 0 and ask.stdout.startswith("usage: python -m bot ask ")
    one_line_error(bot("help", "frobnicate"), 2)


def test_every_subcommand_explains_itself_with_defaults_and_an_example() -> None:
    from bot.cli.parser import build_parser

    parser = build_parser("nkbot")
    commands = parser._subparsers._group_actions[0].choices
    assert len(commands) >= 12
    for name, sub in commands.items():
        text = sub.format_help()
        lines = text.split("\n\n")
        assert lines[0].startswith(f"usage: nkbot {name} "), text
        assert lines[1].strip().endswith("."), f"{name}: no one-line description"
        assert f"example:\n  nkbot {name}" in text, f"{name}: no example"
        assert "exit codes:" in text
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            assert action.help, f"{name} {action.dest}: no help"
            default = action.default
            if isinstance(default, Path):  # the clone's paths are shown relative to it
                default = default.relative_to(ROOT)
            if default not in (None, False, argparse.SUPPRESS) and action.dest != "help":
                assert f"default: {default}" in " ".join(text.split()), f"{name} {action.dest}"


def test_every_help_example_works_as_typed_in_a_shell() -> None:
    """Each example is read as a shell reads it (an apostrophe opens a quote) and parsed as
    the program parses it; redirections are the shell's, not ours."""
    from bot.cli.parser import build_parser

    parser = build_parser("nkbot")
    commands = parser._subparsers._group_actions[0].choices
    texts = [parser.format_help(), *(sub.format_help() for sub in commands.values())]
    examples = [
        line.split("#")[0].strip()
        for text in texts
        for line in text.split("\n")
        if line.startswith("  nkbot")
    ]
    assert len(examples) >= 20
    for example in examples:
        words = shlex.split(example)[1:]  # ValueError on an unbalanced quote
        words = words[: next((i for i, w in enumerate(words) if w in "<>"), len(words))]
        try:
            args = parser.parse_args(words)
        except SystemExit:
            pytest.fail(f"{example!r} is refused by the parser")
        if args.func == "ask":
            assert "'" not in " ".join(args.question).replace("can't", ""), example


def test_help_shows_the_clones_paths_relative_to_it() -> None:
    """The clone's absolute path is long in some checkouts; argparse would break it mid-word."""
    from bot.cli.parser import build_parser

    parser = build_parser("nkbot")
    commands = parser._subparsers._group_actions[0].choices
    for text in (parser.format_help(), *(sub.format_help() for sub in commands.values())):
        assert str(ROOT) not in " ".join(text.split()).replace("- ", "-"), text
    assert "(default: knowledge/)" in parser.format_help()


def test_a_mistyped_option_shows_its_commands_usage() -> None:
    run = bot("ask", "--jsn", "what is the kwanliso")
    assert run.returncode == 2
    assert run.stderr.startswith("usage: python -m bot ask "), run.stderr
    assert "unrecognized arguments: --jsn" in run.stderr


def test_bench_defaults_to_the_sizes_that_finish_in_a_minute_and_shows_progress() -> None:
    from bot.cli.parser import build_parser

    assert build_parser().parse_args(["bench"]).sizes == "1,10"
    run = bot("bench", "--sizes", "1", "--questions", "5")
    assert run.returncode == 0, run.stderr
    assert (
        "[1/1] x1: timing the matcher" in run.stderr and "[1/1] x1: timing the naive" in run.stderr
    )
    assert re.search(r"^\s+x1\s+\d+ matcher", run.stdout, re.M)


def test_export_markdown_links_each_entry_to_the_bot_when_named(knowledge) -> None:
    plain = bot("export", "--format", "markdown").stdout
    assert "t.me" not in plain
    linked = bot("export", "--format", "markdown", "--bot-username", "nkrights_bot").stdout
    for entry_id in knowledge.entries:
        assert f"https://t.me/nkrights_bot?start={entry_id}" in linked
    assert linked.count("https://t.me/nkrights_bot?start=") == len(knowledge.entries)


def seeded_misses(data_dir: Path) -> None:
    from bot.storage.sqlite import SQLiteStore

    store = SQLiteStore(data_dir / "bot.sqlite3")
    for text, status, best, score in (
        ("what did the pope say about north korea", "declined", "freedoms-people-affected", 41.0),
        ("summit", "suggest", "summits-results", 79.0),
        ("how old is kim jong un", "declined", "people-olivia-enos", 31.0),
        ("kwanliso inmates total", "suggest", "camps-how-many", 70.0),
    ):
        for _ in range(3):
            store.record_miss(text, status, best, score)
    store.close()


def test_suggest_proposes_only_what_would_be_answered_right_and_says_why_not(
    tmp_path: Path,
) -> None:
    seeded_misses(tmp_path)
    run = bot("suggest", "--data-dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    proposed, _, left_out = run.stdout.partition("# Left out")
    assert '- "kwanliso inmates total"  # asked 3x' in proposed
    for question in ("pope", '"summit"', "how old is kim"):
        assert question not in proposed, run.stdout
        assert question in left_out, run.stdout
    reasons = {line.split(": ", 1)[0].split("x ", 1)[1]: line for line in left_out.splitlines()[1:]}
    assert "no FAQ text uses pope" in reasons['"what did the pope say about north korea"']
    assert "did you mean" in reasons['"summit"']
    assert "not covered" in reasons['"how old is kim jong un"']


def test_report_says_how_many_more_and_no_best_candidate_for_what_is_not_covered(
    tmp_path: Path, knowledge
) -> None:
    seeded_misses(tmp_path)
    run = bot("report", "--data-dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    never = run.stdout.split("## Entries never matched")[1]
    assert f"- …and {len(knowledge.entries) - 50} more" in never
    old = next(line for line in run.stdout.splitlines() if "how old is kim jong un" in line)
    assert "declined as not covered: " in old and "candidate" not in old
    pope = next(line for line in run.stdout.splitlines() if "pope" in line)
    assert "best candidate: freedoms-people-affected (41)" in pope
