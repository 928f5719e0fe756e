"""JSON the way Ollama's Go server writes and reads it.

Writing: Go's ``json.Marshal`` is compact, keeps struct field order, sorts map keys, and escapes
``<``, ``>`` and ``&`` as ``\\u003c``-style sequences. Clients that only ever saw Python's
``json.dumps`` output can break on the real thing (``<EOT>`` arrives as ``\\u003cEOT\\u003e``).

Reading: Gin's ``ShouldBindJSON`` runs ``json.NewDecoder(body).Decode(&req)``. Its error texts
are part of the API (a client shows them to the user), so syntax errors are found by a port of
the relevant states of Go's scanner, reading bytes as Go does, and type mismatches are reported
as ``json: cannot unmarshal <kind> into Go struct field <Struct>.<path> of type <type>``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class GoMap(dict):
    """A dict Go would encode with sorted keys (a Go ``map``); plain dicts keep insertion order."""


def marshal(value: Any) -> str:
    """Encode ``value`` as Go's ``json.Marshal`` would (dicts in insertion order = struct order)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, dict):
        items = sorted(value.items()) if isinstance(value, GoMap) else value.items()
        return "{" + ",".join(f"{_go_string(k)}:{marshal(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(marshal(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def _go_string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    for char, escape in _HTML_ESCAPES.items():
        if char in out:
            out = out.replace(char, escape)
    return out


def _go_float(f: float) -> str:
    if f == 0:
        return "0"
    if 1e-6 <= abs(f) < 1e21:
        text = format(Decimal(repr(f)), "f")
        return text[:-2] if text.endswith(".0") else text
    text = repr(f)
    if "e-0" in text:
        text = text.replace("e-0", "e-")
    return text


class GoDecodeError(Exception):
    """A request body Go would refuse; ``str(err)`` is Go's exact message."""


class EmptyBody(GoDecodeError):
    """``io.EOF``: nothing but whitespace. Ollama answers ``missing request body``."""


# --- the scanner -------------------------------------------------------------------------------


def _quote_char(c: int) -> str:
    """Go's ``quoteChar``: one *byte* shown in single quotes (a UTF-8 lead byte shows as Latin-1)."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    short = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
    if c in short:
        return f"'{short[c]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if 0x80 <= c < 0xA0 or c == 0xAD:
        return f"'\\u{c:04x}'"
    return f"'{chr(c)}'"


class _UnexpectedEOF(Exception):
    pass


class _Scanner:
    """Validates one JSON value from ``data`` like Go's ``Decoder.readValue``; returns its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0

    def _next(self) -> int:
        if self.i >= len(self.data):
            raise _UnexpectedEOF
        c = self.data[self.i]
        self.i += 1
        return c

    def _peek(self) -> int | None:
        return self.data[self.i] if self.i < len(self.data) else None

    def _skip_space(self) -> None:
        while self.i < len(self.data) and self.data[self.i] in b" \t\r\n":
            self.i += 1

    @staticmethod
    def _error(c: int, context: str) -> GoDecodeError:
        return GoDecodeError(f"invalid character {_quote_char(c)} {context}")

    def top(self) -> tuple[int, int]:
        self._skip_space()
        if self.i >= len(self.data):
            raise EmptyBody("EOF")
        start = self.i
        try:
            self._value()
        except _UnexpectedEOF:
            raise GoDecodeError("unexpected EOF") from None
        return start, self.i

    def _value(self) -> None:
        self._skip_space()
        c = self._next()
        if c == ord("{"):
            self._object()
        elif c == ord("["):
            self._array()
        elif c == ord('"'):
            self._string()
        elif c == ord("-") or ord("0") <= c <= ord("9"):
            self._number(c)
        elif c in b"tfn":
            self._literal({ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}[c])
        else:
            raise self._error(c, "looking for beginning of value")

    def _object(self) -> None:
        self._skip_space()
        if self._peek() == ord("}"):
            self.i += 1
            return
        while True:
            self._skip_space()
            c = self._next()
            if c != ord('"'):
                raise self._error(c, "looking for beginning of object key string")
            self._string()
            self._skip_space()
            c = self._next()
            if c != ord(":"):
                raise self._error(c, "after object key")
            self._value()
            self._skip_space()
            c = self._next()
            if c == ord("}"):
                return
            if c != ord(","):
                raise self._error(c, "after object key:value pair")

    def _array(self) -> None:
        self._skip_space()
        if self._peek() == ord("]"):
            self.i += 1
            return
        while True:
            self._value()
            self._skip_space()
            c = self._next()
            if c == ord("]"):
                return
            if c != ord(","):
                raise self._error(c, "after array element")

    def _string(self) -> None:
        while True:
            c = self._next()
            if c == ord('"'):
                return
            if c == ord("\\"):
                e = self._next()
                if e == ord("u"):
                    for _ in range(4):
                        h = self._next()
                        if chr(h) not in "0123456789abcdefABCDEF":
                            raise self._error(h, "in \\u hexadecimal character escape")
                elif e not in b'"\\/bfnrt':
                    raise self._error(e, "in string escape code")
            elif c < 0x20:
                raise self._error(c, "in string literal")

    def _digits(self) -> None:
        while (p := self._peek()) is not None and ord("0") <= p <= ord("9"):
            self.i += 1

    def _number(self, first: int) -> None:
        if first == ord("-"):
            c = self._next()
            if not ord("0") <= c <= ord("9"):
                raise self._error(c, "in numeric literal")
            first = c
        if first != ord("0"):
            self._digits()
        if self._peek() == ord("."):
            self.i += 1
            c = self._next()
            if not ord("0") <= c <= ord("9"):
                raise self._error(c, "after decimal point in numeric literal")
            self._digits()
        if self._peek() in (ord("e"), ord("E")):
            self.i += 1
            c = self._next()
            if c in (ord("+"), ord("-")):
                c = self._next()
            if not ord("0") <= c <= ord("9"):
                raise self._error(c, "in exponent of numeric literal")
            self._digits()

    def _literal(self, word: bytes) -> None:
        for expected in word[1:]:
            c = self._next()
            if c != expected:
                raise self._error(
                    c, f"in literal {word.decode()} (expecting {_quote_char(expected)})"
                )


# --- typed decoding ----------------------------------------------------------------------------


class _Float(float):
    """A JSON number that had a fraction or exponent; keeps its literal for Go's error text."""

    literal: str

    def __new__(cls, literal: str) -> _Float:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


class _Pairs(list):
    """A JSON object as its (key, value) pairs, in order, duplicates kept (Go: last one wins)."""


def _kind_of(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, _Pairs):
        return "object"
    return "array"


def plain(value: Any) -> Any:
    """Turn parsed pairs and literal floats back into ordinary dicts, lists and numbers."""
    if isinstance(value, _Pairs):
        return {k: plain(v) for k, v in value}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, _Float):
        return float(value)
    return value


class Kind:
    """How one Go field type accepts JSON. ``gotype`` is the type name Go prints in errors."""

    gotype = "interface {}"
    zero: Any = None

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        return plain(value)


class _Context:
    """Go keeps the first type mismatch, goes on decoding, and reports it at the end."""

    def __init__(self, struct: str) -> None:
        self.struct = struct
        self.saved: GoDecodeError | None = None

    def mismatch(self, value: Any, kind: Kind, path: str, literal: str | None = None) -> None:
        if self.saved is None:
            what = f"number {literal}" if literal else _kind_of(value)
            self.saved = GoDecodeError(
                f"json: cannot unmarshal {what} into Go struct field {self.struct}.{path} "
                f"of type {kind.gotype}"
            )


class Scalar(Kind):
    def __init__(self, gotype: str, accepts: tuple[type, ...], zero: Any) -> None:
        self.gotype, self.accepts, self.zero = gotype, accepts, zero

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        if isinstance(value, bool) and bool not in self.accepts:
            ctx.mismatch(value, self, path)
            return self.zero
        if isinstance(value, _Float) and int in self.accepts and float not in self.accepts:
            ctx.mismatch(value, self, path, literal=value.literal)
            return self.zero
        if not isinstance(value, self.accepts) or isinstance(value, _Pairs):
            ctx.mismatch(value, self, path)
            return self.zero
        return plain(value)


STRING = Scalar("string", (str,), "")
BOOL = Scalar("bool", (bool,), False)
OPT_BOOL = Scalar("bool", (bool,), None)
INT = Scalar("int", (int,), 0)
ANY = Kind()


class MapKind(Kind):
    gotype = "map[string]interface {}"

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        if not isinstance(value, _Pairs):
            ctx.mismatch(value, self, path)
            return None
        return plain(value)


class SliceKind(Kind):
    def __init__(self, elem: Kind, gotype: str) -> None:
        self.elem, self.gotype = elem, gotype

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        if isinstance(value, _Pairs) or not isinstance(value, list):
            ctx.mismatch(value, self, path)
            return None
        return [self.elem.zero if v is None else self.elem.convert(v, ctx, path) for v in value]


class CustomKind(Kind):
    """A field with its own ``UnmarshalJSON``: its error aborts decoding at once, as in Go."""

    def __init__(self, parse: Any) -> None:
        self.parse = parse

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        return self.parse(plain(value))


class Struct(Kind):
    """A Go struct: JSON keys match field names exactly, else case-insensitively; others ignored."""

    def __init__(self, name: str, fields: dict[str, Kind]) -> None:
        self.name, self.fields, self.gotype = name, fields, f"api.{name}"

    def zero_value(self) -> dict[str, Any]:
        return {name: kind.zero for name, kind in self.fields.items()}

    def _field(self, key: str) -> str | None:
        if key in self.fields:
            return key
        folded = key.casefold()
        return next((f for f in self.fields if f.casefold() == folded), None)

    def convert(self, value: Any, ctx: _Context, path: str) -> Any:
        if not isinstance(value, _Pairs):
            ctx.mismatch(value, self, path)
            return self.zero_value()
        out = self.zero_value()
        outer, ctx.struct = ctx.struct, self.name
        for key, item in value:
            name = self._field(key)
            if name is None or item is None:
                continue
            out[name] = self.fields[name].convert(item, ctx, f"{path}.{name}" if path else name)
        ctx.struct = outer
        return out


def decode(raw: bytes, struct: Struct) -> dict[str, Any]:
    """Decode a request body into ``struct``'s fields (zero values for absent ones), or raise."""
    start, end = _Scanner(raw).top()
    text = raw[start:end].decode("utf-8", errors="replace")
    value = json.loads(text, object_pairs_hook=_Pairs, parse_float=_Float)
    if value is None:
        return struct.zero_value()
    if not isinstance(value, _Pairs):
        raise GoDecodeError(
            f"json: cannot unmarshal {_kind_of(value)} into Go value of type {struct.gotype}"
        )
    ctx = _Context(struct.name)
    out = struct.convert(value, ctx, "")
    if ctx.saved is not None:
        raise ctx.saved
    return out
