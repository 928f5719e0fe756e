"""What the real models take loaded, measured: the double's ``/api/ps`` sizes for them.

Recorded from one run of ``benchmarks/memory.py`` (2026-12-07, llama-cpp-python 0.3.36 on a
2-vCPU AMD EPYC with AVX2, x86_64 Linux)::

    python -m benchmarks.memory --model smollm2:135m --model gemma3:270m \\
        --model qwen2.5-coder:0.5b --model qwen2.5-coder:1.5b=<the 1.5B GGUF> --json rows.json

Each model at each context in a fresh process, with Ollama's runner defaults (batch 512, f16
KV, flash attention, sliding-window caches of window + batch), after one full batch of prompt
and 8 tokens. Per model (keyed by ``ModelSpec.weights``) and context:

* ``ps_size``: what Ollama reports as ``/api/ps`` ``size`` for that runner — the sum of the
  model, KV, compute and output buffers llama.cpp logs, as Ollama adds them up from
  llama-server's output. This is what the double's ``/api/ps`` says.
* ``need``: the resident memory the load and completion added with the weights read in — what
  the model really takes (``ollama_lsp.models.memory.estimate`` aims at it).
* ``rss_mmap``: the same with the weights memory-mapped, as Ollama loads them; more than
  ``need`` where llama.cpp repacks 4-bit weights (the mapped originals stay resident as page
  cache the kernel can take back).

Contexts between the measured ones are interpolated linearly (the KV cache is linear in the
context), beyond them extrapolated along the nearest segment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    ps_size: int
    need: int
    rss_mmap: int


MEASURED: dict[str, dict[int, Measured]] = {
    "smollm2:135m": {
        2048: Measured(251_448_525, 183_132_160, 183_078_912),
        4096: Measured(294_167_511, 230_273_024, 230_232_064),
        8192: Measured(388_539_351, 324_870_144, 324_907_008),
    },
    "gemma3:270m": {
        2048: Measured(822_419_128, 344_629_248, 357_871_616),
        4096: Measured(828_710_584, 351_358_976, 364_040_192),
        8192: Measured(841_293_496, 364_187_648, 376_954_880),
    },
    "qwen2.5-coder:0.5b": {
        2048: Measured(855_470_244, 608_722_944, 636_874_752),
        4096: Measured(880_636_068, 635_355_136, 662_835_200),
        8192: Measured(930_967_716, 686_170_112, 713_388_032),
    },
    "qwen2.5-coder:1.5b": {
        2048: Measured(2_113_667_072, 1_301_065_728, 1_922_871_296),
        4096: Measured(2_172_387_328, 1_365_340_160, 1_984_937_984),
        8192: Measured(2_289_827_840, 1_483_812_864, 2_102_710_272),
    },
}


def measured(weights: str | None, num_ctx: int) -> Measured | None:
    """The figures for a real model at ``num_ctx``, or None when it was not measured."""
    points = MEASURED.get(weights or "")
    if not points:
        return None
    if num_ctx in points or len(points) == 1:
        return points.get(num_ctx) or next(iter(points.values()))
    contexts = sorted(points)
    right = next((c for c in contexts[1:] if c >= num_ctx), contexts[-1])
    left = contexts[contexts.index(right) - 1]
    share = (num_ctx - left) / (right - left)

    def at(field: str) -> int:
        low, high = getattr(points[left], field), getattr(points[right], field)
        return max(0, round(low + (high - low) * share))

    return Measured(at("ps_size"), at("need"), at("rss_mmap"))


def ps_size(weights: str | None, num_ctx: int) -> int | None:
    """``/api/ps`` ``size`` of a real model's runner at ``num_ctx`` (None: not measured)."""
    found = measured(weights, num_ctx)
    return found.ps_size if found else None
