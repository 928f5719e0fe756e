"""Turn Ollama's per-layer pull progress into one overall percentage and a short message.

Ollama reports each layer (blob) separately, and a later layer's size is unknown until it
starts, so a naive per-line percentage jumps back to 0 for every small layer. We sum what
we have seen and never let the percentage go backwards, which is what a progress bar needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ollama.types import PullProgress


def human_bytes(n: int) -> str:
    """Sizes as Ollama's CLI prints them (decimal units)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


@dataclass
class PullTracker:
    """Accumulates a pull's progress lines."""

    _layers: dict[str, tuple[int, int]] = field(default_factory=dict)
    percentage: int = 0

    def update(self, progress: PullProgress) -> str:
        """Record one line; returns the message to show for it."""
        if progress.digest and progress.total:
            self._layers[progress.digest] = (progress.completed or 0, progress.total)
            done = sum(c for c, _ in self._layers.values())
            total = sum(t for _, t in self._layers.values())
            self.percentage = max(self.percentage, min(100, done * 100 // total))
            return f"pulling {human_bytes(done)} / {human_bytes(total)}"
        if progress.status == "success":
            self.percentage = 100
        return progress.status
