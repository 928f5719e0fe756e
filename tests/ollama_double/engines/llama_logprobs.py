"""Token pieces and ``logprobs`` entries from llama.cpp, as Ollama's runner makes them.

Ollama's runner (v0.12.11+) reads the raw logits of the position it just sampled, takes their
log-softmax over the whole vocabulary in float32, and reports the sampled token's value and the
``top_logprobs`` highest, each token spelled by ``TokenToPiece`` (special tokens spelled out):
``runner/common/logprob.go`` ``CalculateLogprobs``, ``llama/llama.go`` ``TokenToPiece``.
The sampler copies the logits it works on, so after sampling they are still the model's own.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ..logprobs import Entry, go_text, logprob_entry

_PIECE_BUFFER = 64


def token_piece(vocab: Any, token: int) -> bytes:
    """The bytes of ``token``'s piece, however long.

    Works around abetlen/llama-cpp-python#2362: ``LlamaModel.detokenize`` passes a 32-byte
    buffer and ignores llama.cpp's "needs N bytes" answer (a negative length), so a longer
    piece (a run of 64 spaces, say) comes back as ``b""``. This retries with the size asked
    for, as Ollama's ``TokenToPiece`` does."""
    import llama_cpp

    size = _PIECE_BUFFER
    while True:
        buffer = (ctypes.c_char * size)()
        n = llama_cpp.llama_token_to_piece(
            vocab, llama_cpp.llama_token(token), buffer, size, 0, True
        )
        if n >= 0:
            return bytes(buffer[:n])
        size = -n


def logprob_of_sample(llm: Any, token: int, top: int) -> Entry:
    """The ``logprobs`` entry of ``token``, just sampled from ``llm``'s last logits, with the
    ``top`` most probable tokens (none for 0), most probable first."""
    import llama_cpp

    n_vocab = llm.n_vocab()
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,))
    top_logit = logits.max()
    log_sum = np.float32(np.log(np.exp(logits - top_logit).sum(dtype=np.float64)))

    def logprob(i: int) -> float:
        return float((logits[i] - top_logit) - log_sum)  # float32, as Ollama computes it

    vocab = llm._model.vocab
    ranked: list[tuple[str, float]] = []
    if top > 0:
        k = min(top, n_vocab)
        best = np.argpartition(logits, n_vocab - k)[n_vocab - k :]
        best = best[np.lexsort((best, -logits[best]))]
        ranked = [(go_text(token_piece(vocab, int(i))), logprob(int(i))) for i in best]
    return logprob_entry(go_text(token_piece(vocab, token)), logprob(token), ranked)
