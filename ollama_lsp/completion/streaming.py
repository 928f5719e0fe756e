"""One streamed generation, and what it teaches about the model's speed and slot.

Every generation — a real one, a guided-healing step, a prefill — goes through ``Streamer``,
so the slot memory always reflects the last prompt Ollama evaluated (even when the stream is
closed early) and the prompt speed is learned from every answer Ollama times.

No LSP and no HTTP here: the provider is an ``AiProvider``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace

from ..provider import AiProvider, CodeCompletionRequest, TextChunk
from .flights import Flight
from .meters import ModelMeters

#: A real request waits at most this long for a background step to end (a step is sized to
#: ``BACKGROUND_STEP_S``; this only bounds a model that got much slower meanwhile).
BACKGROUND_WAIT_S = 1.0


class Streamer:
    """Streams requests into flights, keeping the model meters up to date."""

    def __init__(
        self, provider: AiProvider, meters: ModelMeters, clock: Callable[[], float]
    ) -> None:
        self._provider = provider
        self._meters = meters
        self._clock = clock
        #: Set while no background step is streaming.
        self._no_step = asyncio.Event()
        self._no_step.set()

    async def stream(
        self,
        request: CodeCompletionRequest,
        flight: Flight,
        feed: Callable[[TextChunk], bool],
        *,
        background: bool = False,
    ) -> TextChunk | None:
        """Stream ``request`` into ``flight`` until ``feed`` says stop; the final chunk if seen.

        Keeps the slot memory and the speed estimate up to date from what Ollama reports.
        A ``background`` step (a prefill's) is not interrupted: a real request waits for it
        to end, so what it evaluated stays in the slot and the request goes to that slot
        (an engine with several slots would give a request arriving meanwhile another one,
        cold). A real request goes to the model's main lane (``ModelMeters.lane``); a
        background one names its own.
        """
        if background:
            self._no_step.clear()
            try:
                return await self._stream(request, flight, feed)
            finally:
                self._no_step.set()
        if not self._no_step.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(BACKGROUND_WAIT_S):
                    await self._no_step.wait()
        lane = self._meters.lane(request.model)
        if request.lane != lane:
            request = replace(request, lane=lane)
        return await self._stream(request, flight, feed)

    async def _stream(
        self,
        request: CodeCompletionRequest,
        flight: Flight,
        feed: Callable[[TextChunk], bool],
    ) -> TextChunk | None:
        slot = self._meters.memory(request.model, request.lane)
        new_chars = slot.cost(request.prompt)
        self._meters.ran(request.model, request.lane)
        started = self._clock()
        final: TextChunk | None = None
        try:
            stream = self._provider.complete_code(request)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    if not flight.evaluated:
                        self._learn_first_token(request.model, new_chars, self._clock() - started)
                    flight.chunk(chunk.text, chunk.logprob)
                    if chunk.done:
                        final = chunk
                        break
                    if feed(chunk):
                        break
        except BaseException:
            if not flight.evaluated:
                slot.interrupted(request.prompt)
            else:
                slot.evaluated(request.prompt, flight.partial)
            raise
        slot.evaluated(request.prompt, flight.partial)
        if final is not None:
            if final.text:
                feed(final)
            self._learn_final(request, new_chars, final)
        return final

    def _learn_final(
        self, request: CodeCompletionRequest, new_chars: int, final: TextChunk
    ) -> None:
        """Ollama's final counts: characters per token, then the speed of the new part."""
        speed = self._meters.speed(request.model)
        speed.learn_chars_per_token(len(request.prompt), final.prompt_tokens)
        evaluated = int(new_chars / speed.chars_per_token)  # the count is the whole prompt
        speed.observe(evaluated, final.prompt_eval_ns, 0)
        if final.cached_tokens is not None and request.lane == self._meters.lane(request.model):
            expected = int((len(request.prompt) - new_chars) / speed.chars_per_token)
            self._meters.check_kept(request.model, expected, final.cached_tokens)

    def _learn_first_token(self, model: str, new_chars: int, seconds: float) -> None:
        """Time to first token bounds the evaluation speed when no final metrics come."""
        speed = self._meters.speed(model)
        tokens = int(new_chars / speed.chars_per_token)
        if tokens >= 64 and seconds >= 0.1:  # shorter times measure the request, not the model
            speed.observe(tokens, int(seconds * 1e9), 0)
