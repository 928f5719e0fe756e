"""The scripted engine: a toy tokenizer, the answers tests script, and simulated time.

A prompt's cost is ``Latency.prompt_token_s`` per token the prompt cache does not cover; the
answer streams one toy token per chunk with ``first_token_s``/``per_token_s`` pauses; a load
takes ``load_s``. Nothing here waits on anything real, so tests stay fast and exact.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..catalogue import ModelSpec
from ..generation import Outcome, pieces
from ..runners import Runner
from ..tokens import prompt_eval_count, tokenize, truncate
from . import Result, Turn

if TYPE_CHECKING:
    from ..state import DoubleState


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


class ScriptedEngine:
    """Runs every model of the catalogue; its "model" says what the test scripted."""

    def __init__(self, state: DoubleState) -> None:
        self._state = state

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
        text = self._state.answer(turn.body, turn.model)
        options = turn.options
        for piece in pieces(text, options["stop"], options["num_predict"], outcome):
            await _pause(latency.first_token_s if not sent else latency.per_token_s)
            sent.append(piece)
            runner.cache = tokens + list(outcome.tokens or [])
            await turn.emit(piece)
        runner.cache = tokens + list(outcome.tokens or [])
        result.eval_ns = max(1, time.monotonic_ns() - gen_start)
        result.done_reason = outcome.done_reason
        result.eval_count = outcome.eval_count
        result.text = "".join(sent)
        return result
