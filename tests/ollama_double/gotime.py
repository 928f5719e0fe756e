"""Go's durations and timestamps, as Ollama parses ``keep_alive`` and prints ``created_at``.

``keep_alive`` goes through ``api.Duration.UnmarshalJSON``: numbers are seconds, strings are
``time.ParseDuration`` input, anything negative means "forever" (``math.MaxInt64`` ns), and other
JSON types fail with ``Unsupported type: '<go type>'``. The error texts reach clients verbatim.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .gojson import GoDecodeError

FOREVER = math.inf
"""keep_alive < 0: Ollama stores ``math.MaxInt64`` nanoseconds (about 292 years)."""

MAX_INT64_NS = 2**63 - 1

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _quote(s: str) -> str:
    """Go's ``strconv.Quote`` for the ASCII-ish text a duration usually is."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_go_duration(text: str) -> float:
    """``time.ParseDuration``: returns seconds, or raises with Go's exact message."""
    original, s = text, text
    neg = False
    if s and s[0] in "+-":
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise GoDecodeError(f"time: invalid duration {_quote(original)}")
    total_ns = 0.0
    while s:
        i = 0
        while i < len(s) and s[i].isdigit():
            i += 1
        whole, s = s[:i], s[i:]
        frac = ""
        if s.startswith("."):
            j = 1
            while j < len(s) and s[j].isdigit():
                j += 1
            frac, s = s[1:j], s[j:]
        if not whole and not frac:
            raise GoDecodeError(f"time: invalid duration {_quote(original)}")
        j = 0
        while j < len(s) and s[j] != "." and not s[j].isdigit():
            j += 1
        unit, s = s[:j], s[j:]
        if not unit:
            raise GoDecodeError(f"time: missing unit in duration {_quote(original)}")
        if unit not in _UNITS_NS:
            raise GoDecodeError(f"time: unknown unit {_quote(unit)} in duration {_quote(original)}")
        value = float(f"{whole or '0'}.{frac or '0'}")
        total_ns += value * _UNITS_NS[unit]
    return (-total_ns if neg else total_ns) / 1e9


_GO_TYPES = {bool: "bool", dict: "map[string]interface {}", list: "[]interface {}"}


def parse_keep_alive(value: Any) -> float:
    """A JSON ``keep_alive`` value -> seconds (``FOREVER`` when negative)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GoDecodeError(f"Unsupported type: '{_GO_TYPES.get(type(value), 'interface {}')}'")
    seconds = parse_go_duration(value) if isinstance(value, str) else float(value)
    return FOREVER if seconds < 0 else seconds


def rfc3339(ns_since_epoch: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: up to 9 fractional digits, trailing zeros trimmed, ``Z``."""
    seconds, nanos = divmod(ns_since_epoch, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def expiry_ns(now_ns: int, keep_alive_s: float) -> int:
    """When a runner idle since ``now_ns`` unloads; forever is ``now + MaxInt64`` as in Go."""
    if keep_alive_s == FOREVER:
        return now_ns + MAX_INT64_NS
    return now_ns + round(keep_alive_s * 1e9)
