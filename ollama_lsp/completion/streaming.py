"""One streamed generation, and what it teaches about the model's speed and slot.

Every generation — a real one, a guided-healing step, a prefill — goes through ``Streamer``,
so the slot memory always reflects the last prompt Ollama evaluated (even when the stream is
closed early) and the prompt speed is learned from every answer Ollama times.

No LSP and no HTTP here: the provider is an ``AiProvider``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ..provider import AiProvider, CodeCompletionRequest, TextChunk
from .flights import Flight
from .meters import ModelMeters


class Streamer:
    """Streams requests into flights, keeping the model meters up to date."""

    def __init__(
        self, provider: AiProvider, meters: ModelMeters, clock: Callable[[], float]
    ) -> None:
        self._provider = provider
        self._meters = meters
        self._clock = clock

    async def stream(
        self,
        request: CodeCompletionRequest,
        flight: Flight,
        feed: Callable[[TextChunk], bool],
    ) -> TextChunk | None:
        """Stream ``request`` into ``flight`` until ``feed`` says stop; the final chunk if seen.

        Keeps the slot memory and the speed estimate up to date from what Ollama reports.
        """
        slot = self._meters.slot(request.model)
        new_chars = slot.cost(request.prompt)
        started = self._clock()
        final: TextChunk | None = None
        try:
            stream = self._provider.complete_code(request)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    if not flight.evaluated:
                        self._learn_first_token(request.model, new_chars, self._clock() - started)
                    flight.chunk(chunk.text)
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

    def _learn_first_token(self, model: str, new_chars: int, seconds: float) -> None:
        """Time to first token bounds the evaluation speed when no final metrics come."""
        speed = self._meters.speed(model)
        tokens = int(new_chars / speed.chars_per_token)
        if tokens >= 64 and seconds >= 0.1:  # shorter times measure the request, not the model
            speed.observe(tokens, int(seconds * 1e9), 0)
