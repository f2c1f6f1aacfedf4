"""What a Python buildpack reads (requirements.txt, .python-version) says what pyproject.toml
says: a platform that installs from one while the tests ran against the other would deploy a
bot nobody tested."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

HEADER = "# pyproject.toml's dependencies, for buildpacks; a test fails when they drift.\n"


def expected_requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return HEADER + "".join(f"{dependency}\n" for dependency in project["dependencies"])


def test_requirements_txt_matches_pyproject() -> None:
    shipped = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert shipped == expected_requirements(), (
        "requirements.txt has drifted from pyproject.toml; replace it with:\n"
        + expected_requirements()
    )


def test_the_pinned_python_is_one_pyproject_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, pinned.split("."))) >= tuple(map(int, minimum.split(".")))


# -- the systemd unit ------------------------------------------------------------------------
UNIT = ROOT / "deploy" / "nkbot.service"


def unit_settings() -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def test_the_unit_does_not_restart_what_only_the_admin_can_fix() -> None:
    """A fault only a person can fix, restarted every 10 s, is a loop that never ends and
    hides the one line that says what is wrong (exit 3: data/ not writable by the user)."""
    from bot.cli.parser import (
        EXIT_KNOWLEDGE,
        EXIT_REFUSED,
        EXIT_SETTINGS,
        EXIT_STORAGE,
        EXIT_UNREACHABLE,
    )

    unit = unit_settings()
    prevented = {int(code) for code in unit["RestartPreventExitStatus"].split()}
    assert {EXIT_KNOWLEDGE, EXIT_SETTINGS, EXIT_STORAGE, EXIT_REFUSED} <= prevented
    assert EXIT_UNREACHABLE not in prevented and unit["Restart"] == "on-failure"
    home = unit["WorkingDirectory"]
    assert (
        unit["User"] not in ("", "root")
        and unit["ExecStart"] == f"{home}/.venv/bin/python -m bot run"
    )
    assert unit["ReadWritePaths"] == f"{home}/data" and unit["ProtectSystem"] == "strict"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    home = unit_settings()["WorkingDirectory"]
    python = ROOT / ".venv" / "bin" / "python"
    text = UNIT.read_text(encoding="utf-8").replace(home, str(ROOT))
    if not python.exists():  # run outside bin/test: any executable python will do
        text = text.replace(f"{ROOT}/.venv/bin/python", sys.executable)
    unit = tmp_path / "nkbot.service"
    unit.write_text(text, encoding="utf-8")
    run = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and "nkbot.service" not in run.stderr, run.stderr


# -- the smoke test a deployer runs ----------------------------------------------------------
def test_the_documented_smoke_test_answers_through_the_local_bot_api() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    run = subprocess.run(
        [sys.executable, "deploy/smoke_test.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.endswith("OK\n") and "answered with its sources" in run.stdout


# -- the README and docs/ ---------------------------------------------------------------------
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGRAM = re.compile(r"^(?:sudo -u nkbot )?(?:bin/bot|\.venv/bin/python -m bot)(?: |$)")


def documented_commands() -> list[tuple[str, str]]:
    """(page, command) for every command line of the bot shown in a page, in code blocks or
    inline; a placeholder (…, <…>) is not a command."""
    found = []
    for page in PAGES:
        shell, prose, fence = [], [], None
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                fence = None if fence is not None else line[3:]
            elif fence is None:
                prose.append(line)
            elif fence in ("", "sh"):
                shell.append(line)
        spans = re.findall(r"`([^`\n]+)`", "\n".join(prose))
        for line in shell + spans:
            for part in line.split("&&"):
                command = part.split(" #")[0].strip()
                if PROGRAM.match(command) and not re.search(r"…|<|COMMAND|ARGS", command):
                    found.append((page.name, command))
    return found


def test_every_documented_command_parses_as_shown() -> None:
    from bot.cli.parser import build_parser

    commands = documented_commands()
    assert len(commands) >= 15
    for page, command in commands:
        words = shlex.split(command)
        start = words.index("-m") + 2 if "-m" in words else words.index("bin/bot") + 1
        words = words[start:]
        words = words[: next((i for i, w in enumerate(words) if w in "<>|"), len(words))]
        try:
            build_parser("bot").parse_args(words or ["run"])
        except SystemExit:
            pytest.fail(f"{page}: {command!r} is refused")


def test_every_link_and_file_a_page_names_exists() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" in target:
                continue
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.name}: {target}"
        for named in re.findall(r"`((?:deploy|docs|tests/eval|bin)/[\w./-]+)`", text):
            assert (ROOT / named).exists(), f"{page.name}: {named}"


def test_the_readme_keeps_to_what_a_newcomer_needs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 8000, "reference belongs in docs/"
    for needed in ("bin/bot", "bin/test", "LICENSE", "verbatim", "docs/deploying.md"):
        assert needed in readme
