"""YAML that remembers where each value came from, so errors can say file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]
MAX_BYTES = 256 * 1024  # ten times the largest FAQ file; a bigger one is a mistake or an attack
MAX_DEPTH = 16  # a FAQ file nests four levels deep


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class YamlDoc:
    """Plain data plus the line of every key and list item, addressed by its path."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known ancestor of loc (pydantic locations can point past
        the YAML, for instance at a missing field)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1


def _index(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*loc, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _index(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*loc, i)
            lines[child] = item.start_mark.line + 1
            _index(item, child, lines)


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing what no FAQ needs and what makes a small file huge.

    An alias repeats a whole subtree, so 342 bytes of nested aliases ("billion laughs") expand
    to billions of values once walked; deep nesting exhausts the stack. Both are refused while
    composing, before anything walks the document."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlSyntaxError(
                event.start_mark.line + 1,
                "anchors and aliases (&name, *name) are not allowed: write the values out",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlSyntaxError(
                    event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# What the parser was inside when it failed, when that was opened on an earlier line: a
# bracket or a quotation mark left open is only noticed where something else begins, but the
# line to fix is the one that opened it.
_OPENED = {
    "while parsing a flow sequence": "the '[' opened here is not closed",
    "while parsing a flow mapping": "the '{' opened here is not closed",
    "while scanning a quoted scalar": "the quotation mark opened here is not closed",
}


def _syntax_error(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The line where the problem starts, and what is wrong, with the line where the parser
    noticed it when that is another one."""
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark else None
    context_line = exc.context_mark.line + 1 if exc.context_mark else None
    opened = _OPENED.get(exc.context or "")
    if opened and context_line and problem_line and context_line < problem_line:
        return context_line, f"{opened} ({exc.problem} on line {problem_line})"
    text = " ".join(str(p) for p in (exc.context, exc.problem) if p)
    return problem_line or context_line or 1, text


def load(path: Path) -> YamlDoc:
    """Parse one file with the safe loader; a syntax error carries its line."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        limit = MAX_BYTES // 1024
        raise YamlSyntaxError(
            1, f"file is {size // 1024} KB; a knowledge file may have at most {limit} KB"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(1, f"not UTF-8 text ({exc.reason})") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line, message = _syntax_error(exc)
        raise YamlSyntaxError(line, f"YAML syntax error: {message}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {(): 1}
    if node is not None:
        _index(node, (), lines)
    return YamlDoc(path=path, data=data, lines=lines)
