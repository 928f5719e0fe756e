"""The markdown table: one row per model, engine, client and run; medians over seeds."""

from __future__ import annotations

import math
from typing import Any

COLUMNS = (
    ("shown", "suggestions shown: distinct ghosts drawn (typed text + ghost as one string)"),
    ("contra", "ghosts contradicting the typed text (distinct; see analysis.py)"),
    ("accepts (wrong)", "Tabs on a ghost exactly what comes next (of them: buffer wrong after)"),
    ("accepted chars (%)", "characters accepted, and their share of the text covered"),
    ("key→new p50/p95 ms", "last key (or Tab) to a new sound suggestion drawn"),
    ("sound at pauses", "pauses >= 1 s ending with a sound ghost in view (of the pauses)"),
    ("prompt tok/key", "prompt tokens the engine evaluated (not cached) per keystroke"),
    ("busy %", "share of the typing time the engine was working (sampled every 100 ms)"),
    ("max wait ms", "longest a request waited behind background work (prefill, speculation)"),
    (
        "prefill reuse ≥90 %",
        "runs of prefill steps whose next request took >= 90 % of the last step's prompt from "
        "the engine's cache, of the runs measured; the median reuse; runs whose next request "
        "was cancelled before the engine's numbers came are not measured; runs no request "
        "followed in their slot by the session's end are counted apart",
    ),
    ("prefill steps (tok)", "one-token prefill requests, and the prompt tokens they evaluated"),
    (
        "spec (right)",
        "speculations (generations as if a suggestion were accepted), and of them those that "
        "assumed the right text (only those can be reused)",
    ),
    ("keys", "keystrokes typed by hand"),
)


def _n(value: Any, digits: int = 0) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


def _reuse(m: dict[str, Any]) -> str:
    """The runs reusing >= 90 % of those measured ("k of n, median m %"), and how many runs
    were not measured or never followed; "–" when no run was measured."""
    n, unmeasured = m["prefill runs measured"], m["prefill runs not measured"]
    text = "–"
    if isinstance(n, int | float) and n > 0:
        text = f"{_n(m['prefill runs reused >= 90 %'])} of {_n(n)}, median "
        text += f"{_n(m['prefill reuse median %'])} %"
    if isinstance(unmeasured, int | float) and unmeasured > 0:
        text += f", {_n(unmeasured)} not measured"
    left = m.get("prefill runs never followed")
    if isinstance(left, int | float) and left > 0:
        text += f", {_n(left)} never followed"
    return text


def row(label: tuple[str, ...], m: dict[str, Any]) -> list[str]:
    run = label[-1]
    if m.get("settle timeouts"):
        run += f", {_n(m['settle timeouts'])} timeouts"
    return [
        *label[:-1],
        run,
        _n(m["suggestions shown"]),
        _n(m["contradicting ghosts"]),
        f"{_n(m['accepts'])} ({_n(m['wrong accepts'])})",
        f"{_n(m['accepted chars'])} ({_n(m['accepted %'], 1)} %)",
        f"{_n(m['key to suggestion p50 ms'])} / {_n(m['key to suggestion p95 ms'])}",
        f"{_n(m['sound ghost at pauses %'])} % of {_n(m['pauses >= 1 s'])}",
        _n(m["prompt tokens evaluated per key"], 1),
        _n(m["engine busy %"]),
        _n(m["longest wait behind background ms"]),
        _reuse(m),
        f"{_n(m['prefill steps'])} ({_n(m['prefill tokens evaluated'])})",
        f"{_n(m['requests: speculation'])} ({_n(m.get('speculations on the right text'))})",
        _n(m["keys"]),
    ]


def table(rows: list[tuple[tuple[str, ...], dict[str, Any]]], seeds: int) -> str:
    head = ["model", "engine", "client", "run", *(name for name, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, metrics in rows:
        lines.append("| " + " | ".join(row(label, metrics)) + " |")
    lines.append("")
    lines.append(f"Medians over {seeds} seed(s). Columns:")
    lines.extend(f"- **{name}**: {meaning}" for name, meaning in COLUMNS)
    lines.append(
        "- **run**: `real time, Tab after N ms` (the ghost unchanged and no key for N ms), or "
        "`unhurried` (each key waits until nothing is in flight and the ghost settled; "
        "`, N timeouts` when a key gave up waiting after 60 s)"
    )
    return "\n".join(lines)
