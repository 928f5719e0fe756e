"""A cheap lexical index of definitions: top-level and class-level functions, classes and
constants of Python, JavaScript/TypeScript, Go and Rust, found with one regular expression
per line. No parser and no language server: it must re-index a 2,000-line file in a
millisecond or two, and a wrong guess only costs a few lines of prompt.

A definition's snippet is what a caller needs: its signature (all of it, when it spans
lines), the decorators or doc comment just above it, and the first few lines of its body
(a docstring, a dataclass's fields, a struct's members).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_VIS = r"(?:pub(?:\([^)]*\))?\s+)?"
_JS_EXPORT = r"(?:export\s+(?:default\s+)?)?(?:declare\s+)?"

#: group -> (patterns at the top level, patterns inside a class/impl body); each pattern's
#: group 1 is the name and its kind is ``function``, ``class`` (a container) or ``value``.
#: ``impl`` opens a container without defining a name.
_PATTERNS: dict[str, tuple[tuple[tuple[re.Pattern[str], str], ...], ...]] = {
    "python": (
        (
            (re.compile(r"(?:async\s+)?def\s+(\w+)"), "function"),
            (re.compile(r"class\s+(\w+)"), "class"),
            (re.compile(r"([A-Z][A-Z0-9_]+)\s*(?::[^=]+)?=(?!=)"), "value"),
        ),
        ((re.compile(r"(?:async\s+)?def\s+(\w+)"), "function"),),
    ),
    "js": (
        (
            (re.compile(_JS_EXPORT + r"(?:async\s+)?function\s*\*?\s*(\w+)"), "function"),
            (re.compile(_JS_EXPORT + r"(?:abstract\s+)?class\s+(\w+)"), "class"),
            (re.compile(_JS_EXPORT + r"(?:interface|enum)\s+(\w+)"), "class"),
            (re.compile(_JS_EXPORT + r"type\s+(\w+)"), "value"),
            (re.compile(_JS_EXPORT + r"(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=(?!=)"), "value"),
        ),
        (
            (
                re.compile(
                    r"(?:(?:public|private|protected|static|async|readonly|override|get|set)\s+)*"
                    r"#?(\w+)\s*(?:<[^>]*>)?\([^;]*$"
                ),
                "function",
            ),
        ),
    ),
    "go": (
        (
            (re.compile(r"func\s+(?:\([^)]*\)\s*)?(\w+)"), "function"),
            (re.compile(r"type\s+(\w+)"), "class"),
            (re.compile(r"(?:var|const)\s+(\w+)"), "value"),
        ),
        (),
    ),
    "rust": (
        (
            (
                re.compile(
                    _VIS + r"(?:(?:async|const|unsafe|extern(?:\s+\"[^\"]*\")?)\s+)*fn\s+(\w+)"
                ),
                "function",
            ),
            (re.compile(_VIS + r"(?:struct|enum|trait|union|type)\s+(\w+)"), "class"),
            (re.compile(_VIS + r"(?:const|static)\s+(\w+)"), "value"),
            (re.compile(r"(?:unsafe\s+)?impl\b"), "impl"),
        ),
        (
            (
                re.compile(
                    _VIS + r"(?:(?:async|const|unsafe|extern(?:\s+\"[^\"]*\")?)\s+)*fn\s+(\w+)"
                ),
                "function",
            ),
        ),
    ),
}

#: Words that look like a JS method header but are statements.
_NOT_METHODS = frozenset({"if", "for", "while", "switch", "catch", "return", "function", "with"})

_MAX_HEADER = 8
_MAX_BODY = {"class": 10, "function": 4, "value": 3}
_MAX_ABOVE = 4


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    #: the line of the ``def``/``class``/``func``... keyword (0-based)
    line: int
    kind: str


_cache: dict[tuple[str, str], tuple[int, tuple[str, str] | None] | None] = {}
_CACHE_LIMIT = 200_000


def _match(group: str, line: str) -> tuple[int, tuple[str, str] | None] | None:
    """``(indent, (name, kind) or None)`` for a line with text; None for a blank line."""
    key = (group, line)
    found = _cache.get(key, False)
    if found is not False:
        return found  # type: ignore[return-value]
    stripped = line.lstrip()
    found = None
    if stripped:
        top = _first(_PATTERNS[group][0], stripped) if _could_define(stripped) else None
        found = (len(line) - len(stripped), top)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[key] = found
    return found


#: First words of statements, which never start a definition.
_STATEMENTS = frozenset((
    "return", "if", "for", "while", "elif", "else", "try", "except", "finally", "with",
    "raise", "yield", "assert", "del", "pass", "break", "continue", "import", "from", "print",
    "await", "case", "switch", "throw",
))  # fmt: skip


def _could_define(stripped: str) -> bool:
    """A cheap test before the patterns: definitions start with a letter, and most lines
    that start with one are statements whose first word rules them out."""
    return stripped[0].isalpha() and stripped.split(None, 1)[0] not in _STATEMENTS


def _member(group: str, stripped: str) -> tuple[str, str] | None:
    return _first(_PATTERNS[group][1], stripped)


def _first(patterns: Sequence[tuple[re.Pattern[str], str]], text: str) -> tuple[str, str] | None:
    for pattern, kind in patterns:
        match = pattern.match(text)
        if match:
            name = match.group(1) if match.groups() else ""
            if kind == "function" and name in _NOT_METHODS:
                return None
            return name, kind
    return None


def find_definitions(lines: Sequence[str], group: str) -> list[Definition]:
    """The top-level and class-level definitions of a file of syntax ``group``."""
    found: list[Definition] = []
    in_container = False
    body_indent: int | None = None
    for number, line in enumerate(lines):
        info = _match(group, line)
        if info is None:
            continue
        indent, top = info
        if indent == 0:
            body_indent = None
            in_container = False
            if top is not None:
                name, kind = top
                in_container = kind in ("class", "impl")
                if name:
                    found.append(Definition(name, number, kind))
            continue
        if not in_container:
            continue
        if body_indent is None:
            body_indent = indent
        if indent == body_indent:
            member = _member(group, line.lstrip())
            if member is not None:
                found.append(Definition(member[0], number, member[1]))
    return found


def definition_lines(lines: Sequence[str], definition: Definition, group: str) -> tuple[int, int]:
    """``(first, stop)``: the lines of ``definition``'s snippet, ``lines[first:stop]``."""
    first = _above(lines, definition.line, group)
    header_end = _header_end(lines, definition.line, group, definition.kind)
    stop = header_end + 1
    limit = min(len(lines), stop + _MAX_BODY.get(definition.kind, 3))
    if definition.kind == "value":
        return first, stop
    indent = len(lines[definition.line]) - len(lines[definition.line].lstrip())
    if group == "python" and definition.kind == "function":
        stop = _docstring_end(lines, stop, limit)
    else:
        stop = _block_end(lines, stop, limit, indent)
    while stop > header_end + 1 and not lines[stop - 1].strip():
        stop -= 1
    return first, stop


def _above(lines: Sequence[str], line: int, group: str) -> int:
    """The first line of the decorators or doc comment right above ``line``."""
    marks = ("@",) if group == "python" else ("//", "/*", "*", "#[", "@")
    first = line
    while first > 0 and line - first < _MAX_ABOVE:
        above = lines[first - 1].strip()
        if not above or not above.startswith(marks):
            break
        first -= 1
    return first


def _header_end(lines: Sequence[str], line: int, group: str, kind: str) -> int:
    """The last line of a signature that may span several lines (brackets balanced; in
    Python a function or class header also ends with ``:``)."""
    depth = 0
    python = group == "python"
    for end in range(line, min(len(lines), line + _MAX_HEADER)):
        text = lines[end].split("#", 1)[0] if python else lines[end]
        depth += sum(text.count(c) for c in "([") - sum(text.count(c) for c in ")]")
        if python:
            depth += text.count("{") - text.count("}")
        if depth <= 0 and (not python or kind == "value" or text.rstrip().endswith(":")):
            return end
    return line


def _docstring_end(lines: Sequence[str], start: int, limit: int) -> int:
    """Past a function's docstring, if its body opens with one; else just the header."""
    if start >= len(lines):
        return start
    opening = lines[start].strip()
    quote = opening[:3]
    if quote not in ('"""', "'''"):
        return start
    if opening.count(quote) >= 2 or (len(opening) > 3 and opening.endswith(quote)):
        return start + 1
    for end in range(start + 1, limit):
        if quote in lines[end]:
            return end + 1
    return limit


def _block_end(lines: Sequence[str], start: int, limit: int, indent: int) -> int:
    """Past the body lines (indented deeper than the header) and the bracket closing them."""
    stop = start
    while stop < limit:
        line = lines[stop]
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if stripped and depth <= indent:
            if depth == indent and stripped.startswith(("}", ")")):
                stop += 1
            break
        stop += 1
    return stop
