"""The facts a model's memory depends on, read from what Ollama's ``/api/show`` says of it.

Everything here is in ``model_info`` (the GGUF hyper-parameters) or in ``tensors`` (the
vocabulary, from ``token_embd.weight``'s shape): layers, attention heads and KV heads, the
head size (``key_length``/``value_length``, else embedding / heads), the feed-forward width,
the training context and the sliding window. Presets carry the same facts for models not yet
pulled. ``memory.estimate`` turns them into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..provider import ShowInfo

#: Every n-th layer of these architectures attends to the whole context; the others keep only
#: the sliding window (llama.cpp's ``swa_pattern``; Ollama's ``gemma3GlobalCacheCount``).
#: An architecture not listed here is assumed to keep the whole context in every layer.
GLOBAL_LAYER_EVERY = {"gemma2": 2, "gemma3": 6, "cohere2": 4, "gptoss": 2, "gpt-oss": 2}

#: When ``/api/show`` names no vocabulary (Ollama before 0.9 sent no ``tensors``).
DEFAULT_VOCAB = 100_000


@dataclass(frozen=True, slots=True)
class ModelFacts:
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    embedding: int
    feed_forward: int
    vocab: int
    context_length: int
    sliding_window: int = 0
    sliding_layers: int = 0
    """Layers that keep only the last ``sliding_window`` tokens (+ a batch) of the cache."""
    bpe_merges: bool = False
    """A GPT-2-style tokenizer, which keeps a table of merges as long as its vocabulary."""


def transformer(
    n_layer: int,
    embedding: int,
    n_head: int,
    n_head_kv: int,
    feed_forward: int,
    vocab: int,
    context_length: int,
    *,
    bpe_merges: bool = False,
) -> ModelFacts:
    """A plain transformer's facts, the head size being embedding / heads (presets)."""
    head_dim = embedding // n_head
    return ModelFacts(
        n_layer, n_head, n_head_kv, head_dim, head_dim, embedding, feed_forward, vocab,
        context_length, bpe_merges=bpe_merges,
    )  # fmt: skip


def facts_of(info: ShowInfo) -> ModelFacts | None:
    """``/api/show``'s facts, or None when it lacks the layers, heads or embedding."""
    arch, mi = info.architecture, info.model_info
    try:
        n_layer = _int(mi[f"{arch}.block_count"])
        n_head = _int(mi[f"{arch}.attention.head_count"])
        embedding = _int(mi[f"{arch}.embedding_length"])
        n_head_kv = _int(mi.get(f"{arch}.attention.head_count_kv", n_head))
        head_dim_k = _int(mi.get(f"{arch}.attention.key_length", embedding // n_head))
        head_dim_v = _int(mi.get(f"{arch}.attention.value_length", head_dim_k))
        feed_forward = _int(mi.get(f"{arch}.feed_forward_length", 4 * embedding))
        window = _int(mi.get(f"{arch}.attention.sliding_window", 0), zero=True)
        every = _int(mi.get(f"{arch}.attention.sliding_window_pattern", 0), zero=True)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    every = every or GLOBAL_LAYER_EVERY.get(arch, 0)
    return ModelFacts(
        n_layer, n_head, n_head_kv, head_dim_k, head_dim_v, embedding, feed_forward,
        vocab=info.vocab_size or DEFAULT_VOCAB,
        context_length=info.context_length or 2048,
        sliding_window=window if every else 0,
        sliding_layers=n_layer - n_layer // every if window and every else 0,
        bpe_merges=mi.get("tokenizer.ggml.model") == "gpt2",
    )  # fmt: skip


def _int(value: Any, *, zero: bool = False) -> int:
    """A count from ``model_info``: a whole number, positive unless ``zero`` is allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(value)
    if value < 0 or (value == 0 and not zero):
        raise ValueError(value)
    return int(value)
