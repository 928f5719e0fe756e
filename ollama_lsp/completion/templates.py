"""Fill-in-the-middle prompt formats per model family, and how we choose one.

Three ways to ask Ollama, chosen per model:

* **raw** (known FIM families: CodeLlama, StarCoder2, DeepSeek-Coder, Qwen2.5-Coder,
  CodeGemma) — we write the exact FIM tokens and send ``raw: true`` without ``suffix``.
  The prompt is byte-for-byte ours, so its start is stable between keystrokes (Ollama's
  prompt-prefix reuse needs that), a file header can be added where the family has a token
  for it, and two Ollama pitfalls disappear: an empty ``prompt`` means "just load the model"
  and an empty ``suffix`` silently disables FIM. For CodeLlama the bytes equal what Ollama's
  own template would render (``<PRE> {prefix} <SUF>{suffix} <MID>``).
* **suffix** (an unknown family whose Ollama template supports ``insert``) — send
  ``prompt``/``suffix`` and let Ollama's template place the tokens we do not know. Never an
  empty prompt or suffix: a lone ``"\\n"`` stands in.
* **prefix** (no FIM: TinyLlama chat, CodeLlama instruct/python/34B/70B) — ``raw`` with the
  prefix only: plain continuation of the text before the cursor, no chat template around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Mode = Literal["raw", "suffix", "prefix"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Exactly what goes into Ollama's generate fields."""

    prompt: str
    suffix: str | None
    raw: bool
    stop: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FimTemplate:
    family: str
    mode: Mode
    #: ``str.format`` pattern with ``{prefix}`` and ``{suffix}`` (raw mode only).
    pattern: str = "{prefix}"
    #: Put before the pattern when the file path is known, with ``{path}``.
    header: str = ""
    stop: tuple[str, ...] = ()
    #: The cursor line's text before the cursor goes after the middle token (the model reads
    #: it as the start of the middle it writes), not at the end of the prefix. Why: a key
    #: typed on a line then only adds its own tokens to the end of the prompt, and the
    #: engine keeps everything before them evaluated; with the line in the prefix, every key
    #: changes the prompt before the suffix, and the suffix is evaluated again each time.
    #: llama-server's ``/infill`` lays prompts out this way (``[FIM_PRE]prefix[FIM_SUF]
    #: suffix[FIM_MID]prompt``, llama.vim sends the cursor line as ``prompt``).
    tail: bool = False

    def build(
        self,
        prefix: str,
        suffix: str,
        *,
        middle: str = "",
        path: str | None = None,
        language: str | None = None,
    ) -> Prompt:
        """The prompt for text ``prefix`` + ``middle`` before the cursor (``middle``: the
        cursor line's part, after the middle token when the template has ``tail``)."""
        if not (self.tail and self.mode == "raw"):
            prefix, middle = prefix + middle, ""
        if self.mode == "suffix":
            return Prompt(prefix or "\n", suffix or "\n", raw=False, stop=self.stop)
        if self.mode == "prefix":
            return Prompt(prefix or "\n", None, raw=True, stop=self.stop)  # "" = load only
        head = self.header.format(path=path) if self.header and path else ""
        body = self.pattern.format(prefix=prefix, suffix=suffix)
        return Prompt(head + body + middle, None, raw=True, stop=self.stop)


# Stop strings: only the family's own structure tokens. The model's end-of-generation token
# needs none (Ollama stops at the vocabulary's end-of-generation ids and at the Modelfile's
# ``stop`` parameters; we send no ``stop`` when the tuple is empty, so those stay in force).
# A string of another family is plain text for this model and must not cut a suggestion.
CODELLAMA = FimTemplate(
    "codellama", "raw", "<PRE> {prefix} <SUF>{suffix} <MID>",
    # ``<EOT>`` ends the middle (Ollama's Modelfile says the same); a new ``<PRE>``... starts
    # another FIM turn. Not ``</s>``: the real EOS is a token Ollama stops at, and the text
    # ``</s>`` is HTML (``<s>struck</s>``).
    stop=("<EOT>", "<PRE>", "<SUF>", "<MID>"),
    # no ``tail``: SentencePiece text right after `` <MID>`` may be read with a dummy leading
    # space that the model never saw there in training; not verifiable here without weights
)  # fmt: skip
STARCODER2 = FimTemplate(
    "starcoder2", "raw", "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    header="<file_sep>{path}\n",
    # FIM markers and the file separator start a new piece of the repository-level format;
    # ``<|endoftext|>`` is the vocabulary's end of text.
    stop=("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<|endoftext|>"),
    tail=True,
)  # fmt: skip
DEEPSEEK = FimTemplate(
    "deepseek-coder", "raw", "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
    # FIM markers, its end of sentence, and ``<|EOT|>`` (its instruct models' end of turn)
    stop=("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>", "<|EOT|>"),
    tail=True,
)  # fmt: skip
QWEN = FimTemplate(
    "qwen2.5-coder", "raw", "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    header="<|file_sep|>{path}\n",
    # FIM and repository-level markers, end of text, and the chat turns the same vocabulary
    # has (an instruct-tuned coder may open one)
    stop=("<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
          "<|file_sep|>", "<|repo_name|>", "<|im_start|>", "<|im_end|>"),
    tail=True,
)  # fmt: skip
CODEGEMMA = FimTemplate(
    "codegemma", "raw", "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    # FIM markers, the file separator, end of turn and end of sequence of the Gemma vocabulary
    stop=("<|file_separator|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
          "<end_of_turn>", "<eos>"),
    tail=True,
)  # fmt: skip
#: Ollama's own template places the FIM tokens and its Modelfile carries the stops.
SUFFIX = FimTemplate("ollama-insert", "suffix", stop=())
#: No stop strings: the model is unknown (TinyLlama, SmolLM2, Gemma, Llama...), so any string
#: we picked would belong to some other family and cut legitimate text (``</s>`` in HTML,
#: ``<|user|>`` in docs). Ollama itself stops at the model's end-of-generation tokens and at
#: its Modelfile's ``stop`` parameters, which apply because we then send no ``stop`` at all.
PREFIX_ONLY = FimTemplate("prefix", "prefix", stop=())

_INSTRUCT = re.compile(r"instruct|chat|python|\b(34|70)b")

#: What ``completion.fim`` may name: a family's format, ``"none"`` for plain prefix
#: continuation, ``"auto"`` (the default) to choose from the model's name and template.
BY_NAME: dict[str, FimTemplate] = {
    "codellama": CODELLAMA,
    "starcoder2": STARCODER2,
    "deepseek-coder": DEEPSEEK,
    "qwen2.5-coder": QWEN,
    "codegemma": CODEGEMMA,
    "none": PREFIX_ONLY,
}


def select_template(
    model_name: str,
    *,
    template_text: str | None = None,
    capabilities: Sequence[str] | None = None,
    fim: str = "auto",
) -> FimTemplate:
    """The template for ``model_name``: the ``fim`` the user named, else from the model's name,
    else from Ollama's template text. An OpenAI-compatible server reports no template, so a
    FIM model with an unknown name needs ``fim`` there (``completion.fim`` setting)."""
    if fim != "auto":
        return BY_NAME[fim]
    base = model_name.lower().rsplit("/", 1)[-1]
    family, _, tag = base.partition(":")
    tag = tag or "latest"
    text = template_text or ""
    if family == "codellama":
        code_tag = tag == "code" or "-code" in tag or tag.startswith("code")
        return CODELLAMA if code_tag and not _INSTRUCT.search(tag) else PREFIX_ONLY
    if family.startswith("qwen2.5-coder") or family.startswith("qwen3-coder"):
        return QWEN
    if family.startswith("codegemma"):
        return PREFIX_ONLY if "instruct" in base else CODEGEMMA
    if family.startswith("starcoder"):
        return PREFIX_ONLY if "instruct" in base else STARCODER2
    if family.startswith("deepseek-coder"):
        return PREFIX_ONLY if "instruct" in base else DEEPSEEK
    if "<PRE>" in text and "<MID>" in text:
        return CODELLAMA
    if "<fim_prefix>" in text:
        return STARCODER2
    if "<|fim_prefix|>" in text:
        return QWEN
    if "insert" in (capabilities or ()) or ".Suffix" in text:
        return SUFFIX
    return PREFIX_ONLY
