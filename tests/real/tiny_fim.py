"""A tiny LLaMA-architecture GGUF with CodeLlama's FIM vocabulary, written at test time.

Neither real model of the tier has fill-in-the-middle tokens, so nothing else shows whether
our raw CodeLlama prompts (``<PRE> {prefix} <SUF>{suffix} <MID>``) reach the model as *control
tokens* once Ollama parses them (it tokenizes with ``special=True``, also in ``raw`` mode).
This model answers that with the real llama.cpp tokenizer: a SentencePiece vocabulary with
byte fallback (any text tokenizes), ``<PRE> <SUF> <MID> <EOT>`` as CONTROL tokens and
``tokenizer.ggml.fim_*_token_id`` set as in CodeLlama's GGUF. The weights are small random
numbers: the model runs, its text is noise. About 100 KB, written in well under a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

FIM_TOKENS = ("<PRE>", "<SUF>", "<MID>", "<EOT>")
N_EMBD = 32
N_FF = 64
N_HEAD = 2
CONTEXT_LENGTH = 2048
FORMAT_REVISION = 1
"""Bump when the file written here changes (it is part of the cache key)."""


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types: specials, the 256 byte tokens, a few pieces, FIM."""
    import gguf

    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces = ["▁", *"abcdefghijklmnopqrstuvwxyz", "▁a", "▁b", "▁def", "▁return", "▁x"]
    tokens += pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    tokens += list(FIM_TOKENS)
    types += [gguf.TokenType.CONTROL] * len(FIM_TOKENS)
    scores = [0.0] * 259 + [-float(i) for i in range(len(pieces))] + [0.0] * len(FIM_TOKENS)
    return tokens, scores, [int(t) for t in types]


def write_tiny_fim(path: Path, *, seed: int = 0) -> Path:
    """Write the model to ``path`` (atomically: a concurrent reader never sees half a file)."""
    import gguf

    tokens, scores, types = vocabulary()
    ids = {t: i for i, t in enumerate(tokens)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    writer = gguf.GGUFWriter(str(partial), "llama")
    writer.add_name("tinyfim")
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(1)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_rope_freq_base(1e6)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(ids["<unk>"])
    writer.add_bos_token_id(ids["<s>"])
    writer.add_eos_token_id(ids["</s>"])
    writer.add_eot_token_id(ids["<EOT>"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, ids["<PRE>"])
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, ids["<SUF>"])
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, ids["<MID>"])

    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    ones = np.ones(N_EMBD, dtype=np.float32)
    writer.add_tensor("token_embd.weight", weights(len(tokens), N_EMBD))
    writer.add_tensor("output_norm.weight", ones)
    writer.add_tensor("output.weight", weights(len(tokens), N_EMBD))
    writer.add_tensor("blk.0.attn_norm.weight", ones)
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        writer.add_tensor(f"blk.0.{name}.weight", weights(N_EMBD, N_EMBD))
    writer.add_tensor("blk.0.ffn_norm.weight", ones)
    writer.add_tensor("blk.0.ffn_gate.weight", weights(N_FF, N_EMBD))
    writer.add_tensor("blk.0.ffn_up.weight", weights(N_FF, N_EMBD))
    writer.add_tensor("blk.0.ffn_down.weight", weights(N_EMBD, N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(partial, path)
    return path
