"""Failures on demand, shaped like the ones real Ollama produces or a network produces.

``http_error`` is an error before any byte (a runner crash, a 429 ...); ``error_line`` is
Ollama's mid-stream ``{"error": ...}`` under status 200; ``malformed_line``, ``truncate`` and
``abort`` are broken transports; ``hang`` is a stalled server. Counting is in NDJSON lines
already sent; a fault due after more lines than the stream has fires in place of its last line.
"""

from __future__ import annotations

from dataclasses import dataclass

FAULT_KINDS = ("http_error", "error_line", "malformed_line", "truncate", "abort", "hang")

RUNNER_CRASHED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an "
    "internal error, check ollama server logs for details"
)


@dataclass
class Fault:
    kind: str
    path: str
    after_chunks: int
    message: str | None
    status: int
    times: int | None
    """How many requests it still applies to; ``None`` = every one."""

    @property
    def error_message(self) -> str:
        return self.message or RUNNER_CRASHED


def validate(kind: str, after_chunks: int, times: int | None) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
    if after_chunks < 0:
        raise ValueError("after_chunks must be >= 0")
    if times is not None and times < 1:
        raise ValueError("times must be >= 1 or None (every request)")
