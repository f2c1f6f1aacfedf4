"""YAML that remembers where each value came from, so errors can say file:line.

Files are read from libyaml's event stream (C, fast) by a small builder that refuses anchors,
aliases and deep nesting as their events arrive, before any value exists, and records each
key's and list item's line as it goes. Anything the builder does not handle itself (a syntax
error, an explicit tag, a merge key, several documents) is handed to the pure-Python loader
below, which either reads it the same way or says exactly what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
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


class _Unhandled(Exception):
    """Something the fast builder leaves to the pure-Python loader (rare; never in our FAQ)."""


_STR = "tag:yaml.org,2002:str"
_Frame = tuple[Any, Loc, object]  # (the dict or list being filled, its location, pending key)
_PENDING = object()  # a mapping waiting for its next key


def _refuse_node(event: yaml.Event, depth: int) -> None:
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        raise YamlSyntaxError(
            event.start_mark.line + 1,
            "anchors and aliases (&name, *name) are not allowed: write the values out",
        )
    if depth > MAX_DEPTH:
        raise YamlSyntaxError(
            event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep"
        )


def _scalar(loader: yaml.CSafeLoader, event: yaml.ScalarEvent) -> Any:
    """A scalar as SafeLoader constructs it: plain ones resolved (int, bool, date, null...)."""
    if event.tag not in (None, "!"):
        raise _Unhandled
    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag == "tag:yaml.org,2002:merge":
        raise _Unhandled
    return loader.construct_object(yaml.ScalarNode(tag, event.value, event.start_mark))


def _build(text: str) -> tuple[Any, dict[Loc, int]]:
    """The document's data and lines, in one pass over libyaml's events."""
    loader = yaml.CSafeLoader(text)
    lines: dict[Loc, int] = {(): 1}
    stack: list[_Frame] = []
    result: Any = None
    documents = 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return result, lines
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Unhandled
                continue
            if isinstance(event, yaml.StreamStartEvent | yaml.DocumentEndEvent):
                continue
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                value, _, _ = stack.pop()
                _place(stack, value, event, lines, closing=True)
                if not stack:
                    result = value
                continue
            _refuse_node(event, len(stack) + 1)
            if isinstance(event, yaml.ScalarEvent):
                if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is _PENDING:
                    container, loc, _ = stack[-1]
                    key = _scalar(loader, event)
                    stack[-1] = (container, loc, (key, event.value))
                    lines[(*loc, event.value)] = event.start_mark.line + 1
                    continue
                value = _scalar(loader, event)
                if not stack:
                    result = value
                _place(stack, value, event, lines)
                continue
            if getattr(event, "tag", None) not in (None, "!"):
                raise _Unhandled
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is _PENDING:
                raise _Unhandled  # a list or mapping as a key
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            loc = _child_loc(stack, event, lines)
            stack.append((container, loc, _PENDING))
    finally:
        loader.dispose()


def _child_loc(stack: list[_Frame], event: yaml.Event, lines: dict[Loc, int]) -> Loc:
    """Where a new node sits; a list item's line is recorded here, as it starts."""
    if not stack:
        return ()
    container, loc, key = stack[-1]
    if isinstance(container, list):
        child = (*loc, len(container))
        lines[child] = event.start_mark.line + 1
        return child
    return (*loc, key[1])


def _place(
    stack: list[_Frame],
    value: Any,
    event: yaml.Event,
    lines: dict[Loc, int],
    closing: bool = False,
) -> None:
    """Put a finished value into its parent (a list item, or the value of the pending key)."""
    if not stack:
        return
    container, loc, key = stack[-1]
    if isinstance(container, list):
        if not closing:
            lines[(*loc, len(container))] = event.start_mark.line + 1
        container.append(value)
        return
    try:
        container[key[0]] = value
    except TypeError:  # an unhashable key
        raise _Unhandled from None
    stack[-1] = (container, loc, _PENDING)


def load(path: Path) -> YamlDoc:
    """Parse one file safely; a syntax error carries its line."""
    stat = path.stat()
    if not S_ISREG(stat.st_mode):  # reading a named pipe would wait for a writer forever
        raise YamlSyntaxError(1, "not a regular file")
    size = stat.st_size
    if size > MAX_BYTES:
        limit = MAX_BYTES // 1024
        raise YamlSyntaxError(
            1, f"file is {size // 1024} KB; a knowledge file may have at most {limit} KB"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(1, f"not UTF-8 text ({exc.reason})") from exc
    try:
        data, lines = _build(text)
        return YamlDoc(path=path, data=data, lines=lines)
    except (yaml.YAMLError, _Unhandled):
        return _load_slowly(path, text)


def _load_slowly(path: Path, text: str) -> YamlDoc:
    """The pure-Python safe loader: its messages say where a syntax error starts."""
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
