"""A toy tokenizer plus the runner's prompt cache and context truncation.

One token is a run of whitespace, a run of word characters, or one other character. Streams
send one token per chunk, so tests can predict chunk counts from text. The counts behave like a
llama.cpp runner's: a prompt that starts like the cached sequence only evaluates the new tail
(at least one token), and a prompt longer than ``num_ctx`` keeps its first ``num_keep`` tokens
and its tail, silently (ollama/ollama#3839).
"""

from __future__ import annotations

import re
import threading

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


class Vocabulary:
    """Stable token ids for ``context`` arrays, and back again for the deprecated ``context``
    request field (Ollama detokenizes it and prepends it to the prompt)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._tokens: list[str] = []
        self._lock = threading.Lock()

    def ids(self, tokens: list[str]) -> list[int]:
        with self._lock:
            out = []
            for token in tokens:
                if token not in self._ids:
                    self._ids[token] = len(self._tokens) + 3  # 0-2: unk, bos, eos
                    self._tokens.append(token)
                out.append(self._ids[token])
            return out

    def text(self, ids: list[int]) -> str:
        with self._lock:
            return "".join(self._tokens[i - 3] for i in ids if 3 <= i < len(self._tokens) + 3)


def common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def truncate(tokens: list[str], num_ctx: int, num_keep: int) -> list[str]:
    """Keep ``num_keep`` head tokens and the tail so that ``num_ctx`` tokens remain."""
    if len(tokens) <= num_ctx:
        return tokens
    keep = max(0, min(num_keep, num_ctx - 1))
    return tokens[:keep] + tokens[len(tokens) - (num_ctx - keep) :]


def prompt_eval_count(cached: list[str], prompt: list[str]) -> int:
    """Tokens the runner must evaluate: those past the longest common start, at least one."""
    reused = min(common_prefix(cached, prompt), len(prompt) - 1)
    return max(1, len(prompt) - max(0, reused))
