"""Token healing: end the prompt where a token can start, and ask the model for the rest.

A prompt that ends mid-word (``retur``) or after a space (``text = ``) ends in the middle of
what the tokenizer would make one token (``return``, `` x``). The model has rarely seen that
cut in training, so it glues on a new piece of word (issue 9 saw ``colu`` + ``ons`` and
``returni`` + ``ing``) or answers a bare newline. Healing backs the prompt up to the start of the partial
word at its end and then off the spaces and tabs before it, so the prompt ends at a natural
token boundary; the model writes the removed text again, as part of the token it prefers,
and a filter keeps only answers that begin with it (and strips it).

Guided: a model's greedy choice after the shortened prompt often does not begin with the
removed text (SmolLM2 after ``self.`` prefers another name to ``wi…``), and that answer is
thrown away: 12 of 16 mid-word cursors in ``textwrap.py``. Ollama's ``top_logprobs`` (up to
20 alternatives per token) lets a client steer the first tokens instead: ask for one token,
take the most probable alternative that agrees with the removed text
(``next_healing_token``), append it to the prompt, and repeat until the removed text is
spelled out; the prompt cache makes each step cost one token. Steered, 6 of the 16 were
thrown away, and 8 of the 10 shown completed an identifier of the file.

Bounded: a "word" longer than ``MAX_WORD`` (a hash, a base64 blob) is left alone, because
asking the model to reproduce it is a gamble, and the whitespace run must be at most
``MAX_SPACE`` long. Newlines are never removed: the line structure stays in the prompt.

A line's own indentation is never removed either (``    ║`` and ``    retur║`` keep their
four spaces in the prompt): it is the most common cursor place (Enter auto-indents), the
indentation is already right, and asking the model to write it again only adds a way to
fail. The token-boundary artefact there — a BPE model continuing after spaces writes one
space more — is tolerated by ``rewrite_end`` (the extra spaces are skipped) and, with nothing
healed, moved to the cursor by the ``drop_extra_leading_space`` filter.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    if word_start - start > MAX_SPACE or start == prefix.rfind("\n", 0, start) + 1:
        start = word_start  # too long, or the line's own indentation: it stays
    return prefix[:start], prefix[start:]


def after_indentation(line_before_cursor: str, healed: str) -> bool:
    """The prompt ends in the cursor line's indentation (what healing left before ``healed``)."""
    rest = line_before_cursor[: len(line_before_cursor) - len(healed)]
    return bool(rest) and not rest.strip(" \t")


def rewrite_end(text: str, healed: str, *, lenient: bool) -> int | None:
    """Where the part of ``text`` that writes ``healed`` again ends; None if it does not.

    ``lenient`` (the prompt ends in indentation): spaces the model writes first are skipped.
    """
    skip = len(text) - len(text.lstrip(" \t")) if lenient else 0
    return skip + len(healed) if text.startswith(healed, skip) else None


def may_rewrite(text: str, healed: str, *, lenient: bool) -> bool:
    """Could a streamed answer that starts with ``text`` still write ``healed`` again?"""
    body = text.lstrip(" \t") if lenient else text
    if lenient and not body:
        return True
    return body.startswith(healed) or healed.startswith(body)


def next_healing_token(healed_left: str, candidates: Iterable[str]) -> str | None:
    """The first of ``candidates`` (most probable first) that agrees with ``healed_left``.

    A token agrees when it spells the start of the text still to heal, or all of it and more
    (``" width"`` for ``" wi"``). Append it to the prompt and to the answer, then continue with
    ``healed_left[len(token):]`` until that is empty. None: no candidate fits, the answer at
    this spot would be thrown away, so do not generate it.
    """
    for token in candidates:
        if token and (token.startswith(healed_left) or healed_left.startswith(token)):
            return token
    return None


def agreeing_token(healed_left: str, candidates: Iterable[str], *, lenient: bool) -> str | None:
    """``next_healing_token``, and when ``lenient`` (the prompt ends in indentation) a token
    may carry extra spaces before the word: they are judged without them."""
    if not lenient:
        return next_healing_token(healed_left, candidates)
    for token in candidates:
        body = token.lstrip(" \t")
        if body and (body.startswith(healed_left) or healed_left.startswith(body)):
            return token
    return None
