"""The models we recommend, with the facts needed to advise on them before they are pulled.

CodeLlama *code* tags are the completion presets (the only CodeLlama variants with
fill-in-the-middle; instruct, python, 34B and 70B have none). TinyLlama 4-bit is the chat
preset and the choice for machines with little RAM. Sizes are the download sizes of the
Ollama library tags; the facts (layers, heads, KV heads, feed-forward width, vocabulary,
training context) are the GGUF hyper-parameters, from which ``memory.estimate`` tells what the
model takes loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .facts import ModelFacts, transformer

Role = Literal["completion", "chat"]


#: GGUF hyper-parameters (layers, embedding, heads, KV heads, feed-forward, vocabulary, context).
LLAMA_7B = transformer(32, 4096, 32, 32, 11008, 32016, 16384)
LLAMA_13B = transformer(40, 5120, 40, 40, 13824, 32016, 16384)
TINYLLAMA = transformer(22, 2048, 32, 4, 5632, 32000, 2048)


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    role: Role
    family: str
    parameter_size: str
    quantization: str
    size: int
    facts: ModelFacts
    note: str


PRESETS: tuple[Preset, ...] = (
    Preset("codellama:7b-code", "completion", "llama", "7B", "Q4_0", 3_825_910_662, LLAMA_7B,
           "default: fastest CodeLlama with fill-in-the-middle, ~5 GB RAM"),
    Preset("codellama:7b-code-q4_K_M", "completion", "llama", "7B", "Q4_K_M", 4_081_017_734,
           LLAMA_7B, "better quality than Q4_0 for ~0.3 GB more"),
    Preset("codellama:7b-code-q8_0", "completion", "llama", "7B", "Q8_0", 7_161_089_926,
           LLAMA_7B, "near-lossless 8-bit, ~9 GB RAM"),
    Preset("codellama:13b-code", "completion", "llama", "13B", "Q4_0", 7_365_960_935,
           LLAMA_13B, "larger and slower, better suggestions, ~10 GB RAM"),
    Preset("tinyllama:1.1b-chat-v1-q4_0", "chat", "llama", "1B", "Q4_0", 637_700_138, TINYLLAMA,
           "4-bit TinyLlama: chat, and completion on machines with little RAM (~1 GB)"),
)  # fmt: skip


def preset(name: str) -> Preset | None:
    return next((p for p in PRESETS if p.name == name), None)
