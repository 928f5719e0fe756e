"""Per-model measurements: how fast the model evaluates prompt, and what its slot holds.

Streaming writes them (from Ollama's own counts and times), window sizing reads them (the
largest prompt affordable within the latency target), a prefill checks them (is the big
window already cheap?). One table object given to all three keeps them in agreement.

No LSP and no HTTP here.
"""

from __future__ import annotations

from .budget import PromptSpeed, SlotMemory


class ModelMeters:
    """The prompt speed and the slot memory of each model, created on first use."""

    def __init__(self) -> None:
        self._speeds: dict[str, PromptSpeed] = {}
        self._slots: dict[str, SlotMemory] = {}

    def speed(self, model: str) -> PromptSpeed:
        return self._speeds.setdefault(model, PromptSpeed())

    def slot(self, model: str) -> SlotMemory:
        return self._slots.setdefault(model, SlotMemory())

    def forget_slots(self, model: str | None = None) -> None:
        """The slot may hold anything now (a load, a pull, a host change); speeds still hold."""
        if model is None:
            self._slots.clear()
        else:
            self._slots.pop(model, None)
