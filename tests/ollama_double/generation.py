"""Turn an answer text into the pieces a llama.cpp runner would stream, honouring stop and
num_predict the way Ollama's runner does (``runner/ollamarunner/runner.go``):

* each sampled token joins a pending buffer; if the buffer contains a stop string, it is cut
  before the stop string, the rest is sent, and generation ends with ``stop``;
* while the buffer *ends* with the start of a stop string it is held back (so ``<EO`` is not
  sent before ``T>`` arrives), then sent joined as one piece;
* after ``num_predict`` tokens (when > 0) generation ends with ``length``;
* running out of text is the end-of-sequence token: ``stop``, and it counts as one evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .tokens import tokenize


def _find_stop(text: str, stops: list[str]) -> str | None:
    return next((s for s in stops if s and s in text), None)


def _ends_with_stop_prefix(text: str, stops: list[str]) -> bool:
    return any(text.endswith(s[:i]) for s in stops if s for i in range(1, len(s) + 1))


@dataclass
class Outcome:
    done_reason: str = "stop"
    eval_count: int = 0
    tokens: list[str] | None = None
    """The tokens sampled (for the prompt cache), stop string included as the runner keeps it."""


def pieces(text: str, stops: list[str], num_predict: int, outcome: Outcome) -> Iterator[str]:
    """Yield the text pieces to stream; fills ``outcome`` as it goes."""
    pending = ""
    sampled: list[str] = []
    outcome.tokens = sampled
    for token in tokenize(text):
        if num_predict > 0 and outcome.eval_count >= num_predict:
            outcome.done_reason = "length"
            break
        outcome.eval_count += 1
        sampled.append(token)
        pending += token
        stop = _find_stop(pending, stops)
        if stop is not None:
            pending = pending[: pending.index(stop)]
            if pending:
                yield pending
            outcome.done_reason = "stop"
            return
        if _ends_with_stop_prefix(pending, stops):
            continue
        yield pending
        pending = ""
    else:
        if num_predict > 0 and outcome.eval_count >= num_predict:
            outcome.done_reason = "length"
        else:
            outcome.eval_count += 1  # the end-of-sequence token
            outcome.done_reason = "stop"
    if pending:
        yield pending
