"""Per-model measurements: how fast the model evaluates prompt, and what its slots hold.

Streaming writes them (from Ollama's own counts and times), window sizing reads them (the
largest prompt affordable within the latency target), a prefill checks them (is the big
window already cheap?). One table object given to all three keeps them in agreement.

A model may have two slots kept apart for us (``Profile.lanes``): the **main** lane, where
completions go and what ``slot`` answers, and a spare one a prefill grows a wider window in;
when that prefill is done the spare becomes the main lane (``promote``). That pays only if
the server keeps the main slot's prompt while the spare one runs. llama-server by default
does not: with its unified KV cache it saves idle slots to its RAM cache and clears them when
a task starts (``--cache-idle-slots``), and a request pinned to a cleared slot skips that
cache (ggml-org/llama.cpp#28139). So the main lane's first answer after the spare ran is
checked against what the server says it took from its cache (``check_kept``); a server that
did not keep it gets one lane from then on (``spare_kept``).

No LSP and no HTTP here.
"""

from __future__ import annotations

import logging

from .budget import PromptSpeed, SlotMemory

log = logging.getLogger(__name__)

#: Below this many tokens expected from the cache, an answer's cached count proves nothing.
CHECK_MIN_TOKENS = 16


class ModelMeters:
    """The prompt speed and the slot memories of each model, created on first use."""

    def __init__(self) -> None:
        self._speeds: dict[str, PromptSpeed] = {}
        self._slots: dict[tuple[str, int], SlotMemory] = {}
        self._main: dict[str, int] = {}
        #: Models whose spare lane ran since the main lane was last answered.
        self._spare_ran: set[str] = set()
        #: Models whose server lost the main slot's prompt while the spare lane ran.
        self._one_lane: set[str] = set()

    def speed(self, model: str) -> PromptSpeed:
        return self._speeds.setdefault(model, PromptSpeed())

    def slot(self, model: str) -> SlotMemory:
        """What the slot completions go to holds."""
        return self.memory(model, self.lane(model))

    def lane(self, model: str) -> int:
        """The lane completions go to (0 until a prefill in the spare one was promoted)."""
        return self._main.get(model, 0)

    def memory(self, model: str, lane: int) -> SlotMemory:
        return self._slots.setdefault((model, lane), SlotMemory())

    def promote(self, model: str, lane: int) -> None:
        """Completions go to ``lane`` from now on: it holds the window they will use."""
        self._main[model] = lane

    def ran(self, model: str, lane: int) -> None:
        """A request is evaluated in ``lane``."""
        if lane != self.lane(model):
            self._spare_ran.add(model)

    def spare_kept(self, model: str) -> bool:
        """Whether the spare lane may be used: the server was not seen losing the main slot's
        prompt while the spare one ran."""
        return model not in self._one_lane

    def check_kept(self, model: str, expected: int, cached: int) -> None:
        """The main lane's answer took ``cached`` prompt tokens from the server's cache where
        its slot should have held ``expected``: after the spare lane ran, far fewer means the
        server does not keep both slots, and the spare lane is not used again."""
        if model not in self._spare_ran:
            return
        self._spare_ran.discard(model)
        if expected >= CHECK_MIN_TOKENS and cached < expected // 2:
            self._one_lane.add(model)
            log.warning(
                "%s: the server dropped our slot's prompt while the spare slot was used "
                "(%d of %d tokens cached): prefills stay in one slot from now on. On "
                "llama-server, start it with --no-cache-idle-slots to keep both.",
                model, cached, expected,
            )  # fmt: skip

    def forget_slots(self, model: str | None = None) -> None:
        """The slots may hold anything now (a load, a pull, a host change); speeds still hold."""
        for key in [k for k in self._slots if model is None or k[0] == model]:
            del self._slots[key]
