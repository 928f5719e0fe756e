"""How much prompt the model can take within the latency target, learned from Ollama itself.

On a laptop CPU Ollama evaluates prompts at 90–300 tokens/s, so a window sized only by the
context length (1,500–2,000 tokens) costs 7–20 s the first time the cursor is at a new place,
and the suggestion comes too late. But Ollama (llama-server with ``cache_prompt``) keeps the
previous prompt's evaluation and re-evaluates only what comes after the longest common start,
so a big window is cheap once its start has been evaluated. Two facts decide the window:

* **speed** — tokens/s and characters per token, learned per model from what Ollama reports
  with each answer: ``prompt_eval_count`` is the whole prompt (cached tokens included), so
  it gives characters per token; ``prompt_eval_duration`` covers only the tokens evaluated,
  whose number is what the slot did not hold (below) — only samples big enough to measure
  evaluation rather than request overhead count;
* **what the slot holds** — the last prompt (and generated text) the model evaluated for us;
  the cost of a candidate prompt is the characters after its common start with that.

The engine offers a ladder of window sizes, largest first, and takes the first whose cost fits
the target (``completion.promptLatencyMs``); the smallest is always affordable. A window chosen at
a place stays the cheapest while the user types there (its start is anchored), and once the big
window has been prefilled during a pause it becomes affordable too.

Pure: no LSP, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Assumed before anything is measured: a slow laptop CPU (the tiny models here do 120–200).
DEFAULT_TOKENS_PER_S = 150.0
DEFAULT_CHARS_PER_TOKEN = 3.0
#: Fewer evaluated tokens than this measure request overhead, not evaluation speed.
MIN_SAMPLE_TOKENS = 24
#: The smallest prefix window worth asking with, whatever the speed.
MIN_PREFIX_CHARS = 160
#: Engine time one piece of background work (a prefill step, a speculation's new prompt)
#: may take: a real request that comes meanwhile waits at most about this long behind it.
BACKGROUND_STEP_S = 0.2
#: A background step adds at least this much prompt (a request costs more than a few tokens).
MIN_STEP_CHARS = 24


@dataclass(slots=True)
class PromptSpeed:
    """Prompt-evaluation speed of one model on this Ollama, as an exponential moving average."""

    tokens_per_s: float = DEFAULT_TOKENS_PER_S
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    samples: int = 0

    def observe(self, evaluated_tokens: int | None, duration_ns: int | None, chars: int) -> None:
        """Learn from one answer: ``evaluated_tokens`` took ``duration_ns`` for ``chars`` new
        characters of prompt (``chars`` 0 when unknown)."""
        if not evaluated_tokens or not duration_ns or evaluated_tokens < MIN_SAMPLE_TOKENS:
            return
        if duration_ns <= 0:
            return
        rate = evaluated_tokens / (duration_ns / 1e9)
        weight = 1.0 if self.samples == 0 else 0.3
        self.tokens_per_s += weight * (rate - self.tokens_per_s)
        if chars > 0:
            ratio = min(6.0, max(1.5, chars / evaluated_tokens))
            self.chars_per_token += weight * (ratio - self.chars_per_token)
        self.samples += 1

    def learn_chars_per_token(self, chars: int, tokens: int | None) -> None:
        """Ollama's ``prompt_eval_count`` is the whole prompt's token count, cached tokens
        included (runner.go ``numPromptInputs``; ollama/ollama#16428): with the prompt's
        length it gives the characters a token holds for this model and this code."""
        if tokens and tokens >= MIN_SAMPLE_TOKENS and chars > 0:
            ratio = min(6.0, max(1.5, chars / tokens))
            self.chars_per_token += 0.3 * (ratio - self.chars_per_token)

    def affordable_chars(self, seconds: float) -> int:
        """Characters of new prompt the model evaluates in ``seconds``."""
        return int(self.tokens_per_s * seconds * self.chars_per_token)

    def seconds_for(self, chars: int) -> float:
        return chars / max(1e-9, self.tokens_per_s * self.chars_per_token)


class SlotMemory:
    """What the model's one slot most likely holds: the last prompt evaluated, plus output.

    Updated by the engine as it learns what Ollama evaluated: the whole prompt once the first
    token (or the end) arrived; after a stream closed before that, only the part shared with
    what was there before is certain to have survived.
    """

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text = ""

    def cost(self, prompt: str) -> int:
        """Characters of ``prompt`` that would need evaluating."""
        return len(prompt) - common_prefix_len(prompt, self.text)

    def evaluated(self, prompt: str, generated: str = "") -> None:
        self.text = prompt + generated

    def interrupted(self, prompt: str) -> None:
        self.text = self.text[: common_prefix_len(prompt, self.text)]

    def clear(self) -> None:
        self.text = ""


def common_prefix_len(a: str, b: str) -> int:
    """Length of the longest common start of ``a`` and ``b``, by C-speed slice compares."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    while lo < hi and a[lo] == b[lo]:
        lo += 1
    return lo


def prefix_ladder(full_chars: int, cold_chars: int) -> list[int]:
    """Prefix window sizes to try, largest first: ``full_chars`` halved down to the cold rung.

    The rungs are fixed (``full_chars / 2**k``), never the learned budget itself, so a window's
    anchored start stays put while typing and while the speed estimate moves. The last rung is
    the largest one within ``cold_chars`` (or the smallest rung), always affordable.
    """
    sizes = [max(1, full_chars)]
    while sizes[-1] > cold_chars and sizes[-1] // 2 >= MIN_PREFIX_CHARS:
        sizes.append(sizes[-1] // 2)
    return sizes
