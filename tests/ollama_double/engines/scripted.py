"""The scripted engine: a toy tokenizer, the answers tests script, and simulated time.

A prompt's cost is ``Latency.prompt_token_s`` per token the prompt cache does not cover; the
answer streams one toy token per chunk with ``first_token_s``/``per_token_s`` pauses; a load
takes ``load_s``. Asked for ``logprobs``, each token comes with ``scripted_alternatives``.
Nothing here waits on anything real, so tests stay fast and exact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..catalogue import ModelSpec
from ..generation import Outcome, pieces
from ..logprobs import Entry, logprob_entry
from ..runners import Runner
from ..tokens import prompt_eval_count, tokenize, truncate
from . import Result, Turn

if TYPE_CHECKING:
    from ..state import DoubleState


#: Tokens that fill a scripted token's ``top_logprobs`` after its own variants.
FILLERS = (
    "\n", " ", "(", ".", ",", ":", ")", "_", "=", "0", "1", "x", "a", "s",
    "the", "self", "if", "in", "not", "is", "None", "def", "return", "for",
)  # fmt: skip


def scripted_alternatives(token: str, top: int) -> list[str]:
    """``top`` distinct most probable tokens where the script samples ``token``: the token
    itself, then what a real tokenizer would also rate (its space-prefixed and capitalised
    forms, its first half), then fillers; deterministic, so tests can name them."""
    variants = [token]
    if not token[:1].isspace():
        variants.append(" " + token)
    variants.append(token.capitalize())
    if len(token) > 1:
        variants.append(token[: (len(token) + 1) // 2])
    out: list[str] = []
    for candidate in (*variants, *FILLERS):
        if candidate not in out:
            out.append(candidate)
    return out[:top]


def scripted_logprob(rank: int) -> float:
    """The log-probability of the ``rank``-th most probable token (0: the sampled one);
    the probabilities add up to less than 1, as a vocabulary's top tokens do."""
    return -0.5 - rank


def scripted_entry(top: int, ranked: dict[str, list[str]]) -> Callable[[str], Entry]:
    """The ``logprobs`` entry of a scripted token: its ``ranked`` alternatives when a test set
    them, else sampled greedily (its own alternative first, with the same log-probability)."""

    def entry(token: str) -> Entry:
        alternatives = ranked.get(token) or scripted_alternatives(token, top)
        rank = alternatives.index(token) if token in alternatives else len(alternatives)
        values = [(t, scripted_logprob(i)) for i, t in enumerate(alternatives[:top])]
        return logprob_entry(token, scripted_logprob(rank), values)

    return entry


async def _pause(seconds: float) -> None:
    """The scripted model's pace (``latency``): the time a stream takes is what tests set."""
    if seconds > 0:
        await asyncio.sleep(seconds)


class ScriptedEngine:
    """Runs every model of the catalogue; its "model" says what the test scripted."""

    def __init__(self, state: DoubleState) -> None:
        self._state = state
        self._steering = Steering()

    def serves(self, spec: ModelSpec) -> bool:
        return True

    async def load(self, runner: Runner) -> None:
        await _pause(self._state.latency.load_s)

    def release(self, runner: Runner) -> None:
        runner.cache = []

    def context_ids(self, runner: Runner, text: str) -> list[int]:
        return self._state.vocab.ids(tokenize(text))

    def context_text(self, runner: Runner, ids: list[int]) -> str:
        return self._state.vocab.text(ids)

    async def generate(self, runner: Runner, turn: Turn) -> Result:
        """Truncate to the context, count what the prompt cache does not cover, take its time;
        then stream the scripted answer piece by piece."""
        latency = self._state.latency
        all_tokens = tokenize(turn.prompt)
        tokens = truncate(all_tokens, turn.num_ctx, turn.options["num_keep"])
        result = Result(prompt_tokens=len(tokens))
        result.evaluated = prompt_eval_count(runner.cache, tokens)
        turn.record(
            phase="evaluating",
            prompt_tokens=len(tokens),
            truncated=len(tokens) < len(all_tokens),
            prompt_eval_count=result.evaluated,
            prompt_token_ids=self._state.vocab.ids(tokens),
        )
        eval_start = time.monotonic_ns()
        runner.cache = list(tokens)
        await _pause(latency.prompt_token_s * result.evaluated)
        result.prompt_ns = max(1, time.monotonic_ns() - eval_start)

        outcome = Outcome()
        turn.record(phase="streaming")
        sent: list[str] = []
        gen_start = time.monotonic_ns()
        text = self._steering.answer(
            turn.prompt, self._state.answer(turn.body, turn.model), step=turn.logprobs.logprobs
        )
        options = turn.options
        with self._state.lock:
            ranked = dict(self._state.ranked)
        entry = scripted_entry(turn.logprobs.top, ranked) if turn.logprobs.logprobs else None
        for piece, logprobs in pieces(
            text, options["stop"], options["num_predict"], outcome, entry
        ):
            await _pause(latency.first_token_s if not sent else latency.per_token_s)
            sent.append(piece)
            runner.cache = tokens + list(outcome.tokens or [])
            await turn.emit(piece, logprobs)
        runner.cache = tokens + list(outcome.tokens or [])
        result.eval_ns = max(1, time.monotonic_ns() - gen_start)
        result.done_reason = outcome.done_reason
        result.eval_count = outcome.eval_count
        result.text = "".join(sent)
        return result


class Steering:
    """How a scripted "model" continues after a client steered its first tokens.

    A scripted answer is the text after the cursor. Guided token healing asks for one token at
    a time with ``logprobs`` and appends the token it chose to the prompt; a real model then
    continues from there. So each such step remembers its prompt and how much of the answer
    was already written before it; a later request whose prompt is a remembered one plus the
    chosen token gets the rest of the answer, when the chosen token is how the answer goes on.
    Other requests get the whole answer, as before.
    """

    KEEP = 32

    def __init__(self) -> None:
        self._written: dict[str, str] = {}  # step prompt -> answer text before that step

    def answer(self, prompt: str, answer: str, *, step: bool) -> str:
        written = self._steered(prompt, answer)
        if step:
            self._written[prompt] = written
            while len(self._written) > self.KEEP:
                del self._written[next(iter(self._written))]
        return answer[len(written) :]

    def _steered(self, prompt: str, answer: str) -> str:
        """What of ``answer`` the steps before ``prompt`` wrote (``""``: none)."""
        best = ""
        for base, written in self._written.items():
            if len(base) <= len(prompt) and prompt.startswith(base):
                chosen = written + prompt[len(base) :]
                if answer.startswith(chosen) and len(chosen) > len(best):
                    best = chosen
        return best
