"""Stop rules shared by every engine, as Ollama's runner applies them (``runner/ollamarunner/
runner.go``; llama-server's ``/completion`` behaves the same for the strings Ollama passes):

* each sampled token's text joins a pending buffer; if the buffer contains a stop string, it is
  cut before the stop string, the rest is sent, and generation ends with ``stop``;
* while the buffer *ends* with the start of a stop string it is held back (so ``<EO`` is not
  sent before ``T>`` arrives), then sent joined as one piece;
* after ``num_predict`` tokens (when > 0) generation ends with ``length``;
* running out of text is the end-of-sequence token: ``stop``, and it counts as one evaluation.

``StopFilter`` is the incremental form a real engine feeds token by token; ``pieces`` is the
scripted engine's loop over an answer text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .logprobs import Entry, Pending
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


class StopFilter:
    """Hold back text that may start a stop string; cut at a complete one.

    ``feed(text)`` returns the text that may be sent now; once it returns with ``stopped``
    set, generation must end with ``stop``. ``flush()`` gives what is still held back when
    generation ends for another reason (Ollama sends it)."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        self._pending += text
        stop = _find_stop(self._pending, self._stops)
        if stop is not None:
            out = self._pending[: self._pending.index(stop)]
            self._pending = ""
            self.stopped = True
            return out
        if _ends_with_stop_prefix(self._pending, self._stops):
            return ""
        out, self._pending = self._pending, ""
        return out

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


def pieces(
    text: str,
    stops: list[str],
    num_predict: int,
    outcome: Outcome,
    entry: Callable[[str], Entry] | None = None,
) -> Iterator[tuple[str, list[Entry]]]:
    """Yield the text pieces to stream, each with its tokens' ``logprobs`` entries (made by
    ``entry(token)``, none without it); fills ``outcome`` as it goes."""
    stop_filter = StopFilter(stops)
    pending = Pending()
    sampled: list[str] = []
    outcome.tokens = sampled
    for token in tokenize(text):
        if num_predict > 0 and outcome.eval_count >= num_predict:
            outcome.done_reason = "length"
            break
        outcome.eval_count += 1
        sampled.append(token)
        if entry is not None:
            pending.push(token, entry(token))
        out = stop_filter.feed(token)
        if stop_filter.stopped:
            if out:
                yield out, pending.release(out, stopped=True)
            outcome.done_reason = "stop"
            return
        if out:
            yield out, pending.release(out)
    else:
        if num_predict > 0 and outcome.eval_count >= num_predict:
            outcome.done_reason = "length"
        else:
            outcome.eval_count += 1  # the end-of-sequence token
            outcome.done_reason = "stop"
    rest = stop_filter.flush()
    if rest:
        yield rest, pending.release(rest, final=True)
