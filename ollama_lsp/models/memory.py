"""Will a model fit in memory? Estimate before loading, and advise a preset that fits.

Ollama's own estimate (in its scheduler) is the model file plus the f16 KV cache for the
context size, plus compute buffers; we use the same formula with a fixed allowance for the
buffers. The check is advice, not a gate: Ollama may still load a model that does not fit
(using swap, or a GPU we cannot see), so we warn and let the user decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psutil

from .presets import PRESETS, Architecture, Preset, Role

#: Compute buffers and runtime overhead on top of weights and KV cache.
OVERHEAD_BYTES = 300_000_000


@dataclass(frozen=True, slots=True)
class MemoryInfo:
    total: int
    available: int
    rss: int


def memory_info() -> MemoryInfo:
    """System memory and this server's own resident size."""
    vm = psutil.virtual_memory()
    return MemoryInfo(
        total=vm.total, available=vm.available, rss=psutil.Process().memory_info().rss
    )


def estimate(size: int, architecture: Architecture | None, num_ctx: int) -> int:
    """Bytes a model needs loaded: weights + KV cache + overhead."""
    kv = architecture.kv_bytes(num_ctx) if architecture else size // 4
    return size + kv + OVERHEAD_BYTES


def gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def alternatives(available: int, num_ctx: int, role: Role, exclude: str) -> list[Preset]:
    """Presets that fit in ``available`` bytes, largest first (completion ones first)."""
    fitting = [
        p for p in PRESETS
        if p.name != exclude and estimate(p.size, p.architecture, num_ctx) <= available
    ]  # fmt: skip
    return sorted(fitting, key=lambda p: (p.role != role, -p.size))


def advice(name: str, needed: int, available: int, num_ctx: int, role: Role) -> str | None:
    """A plain-words warning when ``needed`` exceeds ``available``, naming what fits."""
    if needed <= available:
        return None
    message = f"{name} needs about {gb(needed)}; {gb(available)} is free"
    options = alternatives(available, num_ctx, role, exclude=name)
    if options:
        listed = " or ".join(f"{p.name} ({p.quantization}, {gb(p.size)})" for p in options[:2])
        return f"{message}. {listed} will fit."
    return (
        f"{message}, and no preset fits: close other programs or stop other models (`ollama ps`)."
    )


def names(presets: Iterable[Preset]) -> list[str]:
    return [p.name for p in presets]
