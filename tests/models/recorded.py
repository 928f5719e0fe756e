"""``/api/show`` of the four real models, as recorded from their GGUF files (the scalars of
``model_info`` Ollama shows, its arrays emptied, the vocabulary in ``tensors``), and their file
sizes. The measured memory of the same models is ``tests/ollama_double/measured.py``."""

from __future__ import annotations

from typing import Any

SMOLLM2 = {
    "general.architecture": "llama", "general.file_type": 3, "llama.block_count": 30,
    "llama.context_length": 8192, "llama.embedding_length": 576,
    "llama.feed_forward_length": 1536, "llama.attention.head_count": 9,
    "llama.attention.head_count_kv": 3, "llama.rope.freq_base": 100000.0,
    "llama.vocab_size": 49152, "llama.rope.dimension_count": 64,
    "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "smollm",
    "tokenizer.ggml.tokens": [], "tokenizer.ggml.merges": [],
}  # fmt: skip
GEMMA3 = {
    "general.architecture": "gemma3", "general.file_type": 15, "gemma3.context_length": 32768,
    "gemma3.embedding_length": 640, "gemma3.block_count": 18,
    "gemma3.feed_forward_length": 2048, "gemma3.attention.head_count": 4,
    "gemma3.attention.key_length": 256, "gemma3.attention.value_length": 256,
    "gemma3.rope.freq_base": 1000000.0, "gemma3.attention.sliding_window": 512,
    "gemma3.attention.head_count_kv": 1, "tokenizer.ggml.model": "llama",
    "tokenizer.ggml.tokens": [], "tokenizer.ggml.scores": [],
}  # fmt: skip


def _qwen(layers: int, embedding: int, ff: int, heads: int) -> dict[str, Any]:
    return {
        "general.architecture": "qwen2", "general.file_type": 15, "qwen2.block_count": layers,
        "qwen2.context_length": 32768, "qwen2.embedding_length": embedding,
        "qwen2.feed_forward_length": ff, "qwen2.attention.head_count": heads,
        "qwen2.attention.head_count_kv": 2, "qwen2.rope.freq_base": 1000000.0,
        "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "qwen2",
        "tokenizer.ggml.tokens": [], "tokenizer.ggml.merges": [],
    }  # fmt: skip


def show(model_info: dict[str, Any], vocab: int) -> dict[str, Any]:
    """An ``/api/show`` answer with this ``model_info`` and vocabulary."""
    arch = model_info["general.architecture"]
    embedding = model_info[f"{arch}.embedding_length"]
    tensors = [{"name": "token_embd.weight", "type": "Q4_K", "shape": [embedding, vocab]}]
    return {"model_info": model_info, "tensors": tensors, "capabilities": ["completion"]}


#: name -> (``/api/show`` answer, GGUF file size in bytes)
REAL: dict[str, tuple[dict[str, Any], int]] = {
    "smollm2:135m": (show(SMOLLM2, 49152), 98_362_432),
    "gemma3:270m": (show(GEMMA3, 262144), 253_113_024),
    "qwen2.5-coder:0.5b": (show(_qwen(24, 896, 4864, 14), 151936), 491_400_064),
    "qwen2.5-coder:1.5b": (show(_qwen(28, 1536, 8960, 12), 151936), 1_117_320_768),
}
