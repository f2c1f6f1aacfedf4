"""The layout's import rules, read from the source: the folders mean something only while
these hold (see the README's architecture section)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

# What each room may import of the bot; python-telegram-bot only from bot.telegram.
ALLOWED = {
    "bot.text": set(),
    "bot.storage": {"bot.text", "bot.storage"},
    "bot.engine": {"bot.text", "bot.storage", "bot.engine"},
    "bot.telegram": {"bot.text", "bot.storage", "bot.engine", "bot.settings", "bot.telegram"},
}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, module: str) -> set[str]:
    """Every module a file imports, at the top or inside a function, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
    return found


def room(module: str) -> str:
    """The rule that governs a module: bot.engine.briefings.facts falls under bot.engine."""
    return next((r for r in ALLOWED if module == r or module.startswith(r + ".")), "")


def violations(root: Path = BOT) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        governed = room(module)
        for name in sorted(imported(path, module)):
            top = name.split(".")[0]
            if top == "telegram" and governed != "bot.telegram":
                problems.append(f"{module} imports {name}: only bot.telegram may use telegram")
            target = room(name) or name
            if governed and top == "bot" and target not in ALLOWED[governed]:
                problems.append(f"{module} imports {name}: {governed} may not import {target}")
    return problems


def test_the_rooms_keep_their_import_rules() -> None:
    assert violations() == []


def test_the_rooms_exist_and_say_what_they_hold() -> None:
    for folder in ("engine", "telegram", "cli", "storage"):
        init = BOT / folder / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), (
            f"bot/{folder}/__init__.py should say what it may import"
        )


@pytest.mark.parametrize(
    ("where", "source", "complaint"),
    [
        ("engine/leak.py", "from telegram import Update\n", "only bot.telegram may use telegram"),
        ("engine/leak.py", "def f():\n    from bot.cli import main\n", "may not import bot.cli"),
        ("storage/leak.py", "from bot.engine import render\n", "may not import bot.engine"),
        ("storage/leak.py", "from ..engine import render\n", "may not import bot.engine"),
        ("telegram/ok.py", "from telegram import Update\nfrom bot.engine import render\n", None),
    ],
)
def test_a_broken_rule_is_caught(tmp_path: Path, where: str, source: str, complaint: str | None):
    """The checker itself: a rule broken in a scratch tree is reported, a kept one is not."""
    root = tmp_path / "bot"
    for folder in ("engine", "telegram", "cli", "storage"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / where).write_text(source)
    found = violations(root)
    if complaint is None:
        assert found == []
    else:
        assert len(found) == 1 and complaint in found[0]
