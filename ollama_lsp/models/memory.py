"""Will a model fit in memory? Estimate before loading, and advise a model that fits.

The estimate follows Ollama's own (its scheduler's ``GraphSize`` and llama-server's
``PredictServerVRAM``: the weights, the f16 KV cache for the context, the compute graph),
but counts what a loaded model keeps *resident* on the CPU, as ``benchmarks/memory.py``
measures it on real models under llama.cpp with Ollama's runner defaults (``num_batch`` 512,
f16 KV, flash attention, sliding-window caches of window + batch):

* weights: the model file, read once and kept;
* KV cache: per layer, cells × KV heads × (K + V head size) × 2 bytes, cells being the
  context (capped at the training context, padded to 256) or, in a sliding-window layer, the
  window plus a batch;
* activations: one batch of tokens through a layer, four float32 values per token per
  embedding and feed-forward unit (``ACTIVATION_FLOATS``). Ollama's graph estimate also
  reserves vocabulary × batch × 4 bytes for the logits, which llama.cpp allocates but touches
  only for the tokens that need logits (the last one), so it is not counted;
* tokenizer tables: each token's text and lookup entries, and a GPT-2-style tokenizer's merge
  table of about the same length;
* the runtime's own fixed share.

The four fitted constants (activation floats, bytes per token and per merge, the runtime's
share) come from four real models at three contexts, where the estimate is within 2 % of the
measured figure; on two geometries it was not fitted on (TinyLlama 1.1B, CodeLlama 7B's
layers) it is within 2.3 % (README). ``/api/ps``'s ``size`` of a loaded model is Ollama's own
account and is used instead when there is one. The check is advice, not a gate: Ollama may
still load a model that does not fit (using swap, or a GPU we cannot see), so we warn and let
the user decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psutil

from .facts import ModelFacts
from .presets import PRESETS, Role

#: Ollama's default ``num_batch`` (prompt tokens evaluated together).
NUM_BATCH = 512
#: llama.cpp pads the KV cache to whole blocks of cells.
KV_CELL_PAD = 256
#: float32 activations a batch token keeps per embedding and feed-forward unit of one layer.
ACTIVATION_FLOATS = 4
#: A vocabulary entry's text, score and lookup-table entries.
TOKEN_BYTES = 132
#: A BPE merge rule (two strings and a rank in an ordered map).
MERGE_BYTES = 118
#: The context's own structures, graph metadata and threads.
RUNTIME_BYTES = 8_000_000
#: Without any facts: the file plus a quarter of it, plus a fixed allowance.
UNKNOWN_OVERHEAD_BYTES = 300_000_000


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


@dataclass(frozen=True, slots=True)
class Estimate:
    weights: int
    kv_cache: int
    activations: int
    tokenizer: int
    runtime: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.activations + self.tokenizer + self.runtime


def _pad(cells: int) -> int:
    return -(-cells // KV_CELL_PAD) * KV_CELL_PAD


def kv_cache_bytes(facts: ModelFacts, num_ctx: int, num_batch: int = NUM_BATCH) -> int:
    """f16 K and V for every layer: the context, or the window + a batch where it slides."""
    cells = _pad(min(num_ctx, facts.context_length))
    window = min(cells, _pad(facts.sliding_window + num_batch))
    per_cell = facts.n_head_kv * (facts.head_dim_k + facts.head_dim_v) * 2
    full = facts.n_layer - facts.sliding_layers
    return per_cell * (full * cells + facts.sliding_layers * window)


def breakdown(size: int, facts: ModelFacts, num_ctx: int, num_batch: int = NUM_BATCH) -> Estimate:
    """Where the bytes of a model of ``size`` bytes loaded at ``num_ctx`` go."""
    tokens = facts.vocab * (TOKEN_BYTES + (MERGE_BYTES if facts.bpe_merges else 0))
    return Estimate(
        weights=size,
        kv_cache=kv_cache_bytes(facts, num_ctx, num_batch),
        activations=4 * ACTIVATION_FLOATS * num_batch * (facts.embedding + facts.feed_forward),
        tokenizer=tokens,
        runtime=RUNTIME_BYTES,
    )


def estimate(size: int, facts: ModelFacts | None, num_ctx: int) -> int:
    """Bytes a model of ``size`` bytes takes loaded at ``num_ctx`` (see the module doc)."""
    if facts is None:
        return size + size // 4 + UNKNOWN_OVERHEAD_BYTES
    return breakdown(size, facts, num_ctx).total


def gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model the advice may name: installed ones first, then presets to pull."""

    name: str
    role: Role
    needed: int
    installed: bool
    label: str = ""


def preset_candidates(num_ctx: int) -> list[Candidate]:
    return [
        Candidate(p.name, p.role, estimate(p.size, p.facts, num_ctx), False,
                  f"{p.quantization}, {gb(p.size)} download")
        for p in PRESETS
    ]  # fmt: skip


def alternatives(
    available: int, candidates: Iterable[Candidate], role: Role, exclude: str
) -> list[Candidate]:
    """Candidates that fit in ``available`` bytes: installed first, the role's own first,
    then the largest (the best suggestions that still fit)."""
    fitting = [c for c in candidates if c.name != exclude and c.needed <= available]
    return sorted(fitting, key=lambda c: (not c.installed, c.role != role, -c.needed))


def advice(
    name: str, needed: int, available: int, candidates: Iterable[Candidate], role: Role
) -> str | None:
    """A plain-words warning when ``needed`` exceeds ``available``, naming what fits."""
    if needed <= available:
        return None
    message = f"{name} needs about {gb(needed)}; {gb(available)} is free"
    options = alternatives(available, candidates, role, exclude=name)
    if options:
        listed = " or ".join(_describe(c) for c in options[:2])
        return f"{message}, so it may swap. {listed} will fit."
    return (
        f"{message}, and nothing smaller fits: close other programs or stop other models "
        "(`ollama ps`)."
    )


def _describe(c: Candidate) -> str:
    where = "installed" if c.installed else c.label
    return f"{c.name} (needs {gb(c.needed)}, {where})" if where else c.name
