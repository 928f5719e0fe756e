"""Token healing: end the prompt where a token can start, and ask the model for the rest.

A prompt that ends mid-word (``retur``) or after a space (``text = ``) ends in the middle of
what the tokenizer would make one token (``return``, `` x``). The model has rarely seen that
cut in training, so it starts a new word (``retur`` + ``ned``... or ``paragra`` + ``ps``
broken) or answers a bare newline. Healing backs the prompt up to the start of the partial
word at its end and then off the spaces and tabs before it, so the prompt ends at a natural
token boundary; the model writes the removed text again, as part of the token it prefers,
and a filter keeps only answers that begin with it (and strips it).

Bounded: a "word" longer than ``MAX_WORD`` (a hash, a base64 blob) is left alone, because
asking the model to reproduce it is a gamble, and the whitespace run must be at most
``MAX_SPACE`` long. Newlines are never removed: the line structure stays in the prompt.
"""

from __future__ import annotations

MAX_WORD = 40
MAX_SPACE = 40


def is_word_char(ch: str) -> bool:
    """A character of an identifier (or number): letters, digits and ``_``, any script."""
    return ch.isalnum() or ch == "_"


def heal(prefix: str) -> tuple[str, str]:
    """``(prefix to put in the prompt, removed text)``; the two add up to ``prefix``."""
    end = len(prefix)
    start = end
    while start > 0 and is_word_char(prefix[start - 1]):
        start -= 1
    if end - start > MAX_WORD:
        return prefix, ""
    word_start = start
    while start > 0 and prefix[start - 1] in " \t":
        start -= 1
    if word_start - start > MAX_SPACE:
        start = word_start
    return prefix[:start], prefix[start:]
