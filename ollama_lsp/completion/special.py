"""Keep special-token strings in the user's text from becoming special tokens.

Ollama's tokenizer parses special-token strings in every prompt, ``raw`` ones included, so a
file that contains ``</s>`` (HTML strike-through), ``<|endoftext|>`` or ``<eos>`` would end
generation at once or feed the model a control token it never saw in that place.
``neutralise`` inserts a ZERO WIDTH SPACE (U+200B) after the first character of every such
string, which a tokenizer reads as plain text; ``restore`` takes it out again, and the
suggestion filters run it on what the model wrote, because a model copies what it saw: the
suggestion then reproduces the user's text byte for byte.

Why the two are exact inverses: a user's text may already hold ``<`` + U+200B + ``/s>``. So
``neutralise`` adds one U+200B to *any* run of them after the first character (zero or more)
and ``restore`` removes one from runs of one or more. Every string here starts with ``<`` or
``[`` and ends with ``>`` or ``]``, with no bracket inside, so two occurrences never overlap
and each bracketed piece is matched (or not) on its own, the same way in both directions.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"

#: Special-token strings of every family we know. The families: end/begin of text, chat
#: turns, fill-in-the-middle and repository-level markers. Checked against the control tokens
#: of the real SmolLM2 and Gemma 3 vocabularies (their user-defined tokens, Gemma's ``<table>``
#: or ``<b>``, are ordinary text the model was trained to read, and are left alone).
SPECIAL_STRINGS: tuple[str, ...] = (
    # Llama 1/2, Mistral, TinyLlama, CodeLlama (SentencePiece)
    "</s>", "<s>", "<unk>", "[INST]", "[/INST]",
    "<PRE>", "<SUF>", "<MID>", "<EOT>",
    # Mistral / Codestral FIM
    "[PREFIX]", "[SUFFIX]", "[MIDDLE]",
    # GPT-2 style BPE: StarCoder, SmolLM, Qwen, Phi
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|end|>",
    "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>",
    "<file_sep>", "<filename>", "<repo_name>", "<reponame>", "<gh_stars>",
    "<issue_start>", "<issue_comment>", "<issue_closed>", "<jupyter_start>", "<jupyter_text>",
    "<jupyter_code>", "<jupyter_output>", "<jupyter_script>", "<empty_output>",
    "<commit_before>", "<commit_msg>", "<commit_after>",
    "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
    "<|file_sep|>", "<|repo_name|>",
    # Gemma, CodeGemma
    "<eos>", "<bos>", "<pad>", "<mask>", "<start_of_turn>", "<end_of_turn>",
    "<|file_separator|>", "<start_of_image>", "<end_of_image>",
    # chat formats (Zephyr, TinyLlama chat), DeepSeek's end of turn
    "<|user|>", "<|assistant|>", "<|system|>", "<|EOT|>",
    # Llama 3
    "<|eot_id|>", "<|eom_id|>", "<|begin_of_text|>", "<|end_of_text|>",
    "<|start_header_id|>", "<|end_header_id|>", "<|python_tag|>",
    # DeepSeek-Coder (full-width bars, U+2581 for spaces)
    "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>",
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
)  # fmt: skip


#: Numbered families, as regular expressions for what follows the first character: Gemma's
#: 6,242 ``<unusedN>`` control tokens, Llama 3's ``<|reserved_special_token_N|>``.
SPECIAL_NUMBERED: tuple[str, ...] = (r"unused\d+>", r"\|reserved_special_token_\d+\|>")


def _pattern(run: str) -> re.Pattern[str]:
    """One scan for every string, a U+200B run (``*`` or ``+``) allowed after its first char."""
    parts = [
        f"{re.escape(s[0])}{ZWSP}{run}{re.escape(s[1:])}"
        for s in sorted(SPECIAL_STRINGS, key=len, reverse=True)
    ]
    parts += [f"<{ZWSP}{run}{rest}" for rest in SPECIAL_NUMBERED]
    return re.compile("|".join(parts))


_NEUTRALISE = _pattern("*")
_RESTORE = _pattern("+")


def neutralise(text: str) -> str:
    """``text`` with every special-token string made plain text for a tokenizer."""
    return _NEUTRALISE.sub(lambda m: m[0][0] + ZWSP + m[0][1:], text)


def restore(text: str) -> str:
    """The exact inverse of ``neutralise`` on anything it produced."""
    return _RESTORE.sub(lambda m: m[0][0] + m[0][2:], text)
