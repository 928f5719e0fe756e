"""Guided token healing: spell what healing removed with the model's own tokens.

Token healing backs the prompt up to the start of a partial word (``healing.heal``), so the
model picks the word's tokens itself. But its greedy first token after a healed prompt often
does not begin with the partial word, and that answer would be thrown away. So ask for one
token at a time with its most probable alternatives (``top_logprobs``), take the most
probable one that agrees with the rest of the word, append it to the prompt, and repeat
until the word is spelled (the prompt cache makes each step cost one token).

No LSP and no HTTP here.
"""

from __future__ import annotations

from dataclasses import replace

from ..provider import CodeCompletionRequest, TextChunk
from .flights import Flight
from .healing import agreeing_token
from .prompt import Assembly
from .stream import StreamCutter
from .streaming import Streamer

#: Guided healing: at most this many one-token steps, each with this many alternatives.
STEER_STEPS = 4
STEER_ALTERNATIVES = 20


class Steering:
    """Steers healed prompts; remembers the models whose backend cannot be steered."""

    def __init__(self, streamer: Streamer) -> None:
        self._streamer = streamer
        #: Models whose backend sent no ``top_logprobs`` alternatives: healed unguided.
        self.unsteerable: set[str] = set()

    async def steer(
        self, a: Assembly, flight: Flight, cutter: StreamCutter
    ) -> CodeCompletionRequest | None:
        """The request that generates the rest once the healed word is spelled.

        The steered tokens go into ``flight`` and ``cutter`` as generated text. Returns
        ``a.request`` unchanged when there is nothing to heal (or the model cannot be
        steered), and None when no alternative agrees (nothing worth generating).
        """
        healed = a.spot.healed
        model = a.request.model
        if not healed or not a.request.raw or model in self.unsteerable:
            return a.request
        left, steered = healed, ""
        for _ in range(STEER_STEPS):
            step = replace(
                a.request,
                prompt=a.request.prompt + steered,
                max_tokens=1,
                top_logprobs=STEER_ALTERNATIVES,
            )
            first = await self._first_chunk(step, a)
            if first is None:
                return None  # the model ends right here: nothing to show
            if not first.alternatives:
                self.unsteerable.add(model)  # text but no alternatives: generate unguided
                return (
                    replace(a.request, prompt=a.request.prompt + steered) if steered else a.request
                )
            lenient = a.spot.lenient_heal and not steered
            token = agreeing_token(left, first.alternatives, lenient=lenient)
            if token is None:
                return None
            steered += token
            flight.chunk(token, 0.0)  # agrees with what the user typed: no doubt to count
            cutter.feed(token)
            spelled = len(token.lstrip(" \t")) if lenient else len(token)
            if spelled >= len(left):
                break
            left = left[spelled:]
        return replace(a.request, prompt=a.request.prompt + steered)

    async def _first_chunk(self, step: CodeCompletionRequest, a: Assembly) -> TextChunk | None:
        """The first chunk of a one-token step (its own flight: the slot memory stays right)."""
        seen: list[TextChunk] = []
        probe = Flight(step.model, a.windows.prefix, a.windows.suffix, step.prompt)
        await self._streamer.stream(step, probe, lambda chunk: bool(seen.append(chunk)) or True)
        return seen[0] if seen else None
