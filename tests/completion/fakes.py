"""An in-memory AiProvider for engine tests: scripted text, delays, failures, and a record of
every request and of streams closed before their end."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence

from ollama_lsp.completion.budget import common_prefix_len
from ollama_lsp.ollama.types import ModelInfo, PullProgress
from ollama_lsp.provider import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ProviderCapabilities,
    ProviderError,
    TextChunk,
)

TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


class FakeProvider(AiProvider):
    def __init__(self, *, context_window: int = 16384, insert: bool = True) -> None:
        self.context_window = context_window
        self.insert = insert
        #: Slots kept apart for us (llama-server with a spare slot: 2).
        self.lanes = 1
        #: With ``eval_rate``, the prompt each lane's slot holds (the final chunk says how many
        #: tokens came from it); ``clears_idle``: starting a request clears the other slots,
        #: as llama-server's default ``--cache-idle-slots`` does with its unified KV cache.
        self.slots: dict[int, str] = {}
        self.clears_idle = False
        self.responses: list[str] = []
        self.default = "return a + b"
        #: The cursor line's indentation, which the model writes again after token healing.
        self.indent = ""
        #: Alternatives offered before the answer's own token at guided-healing steps.
        self.alternatives: tuple[str, ...] = ()
        #: Each generated token's log-probability, sent when a request asks for ``logprobs``
        #: (None: the backend sends none).
        self.token_logprob: float | None = None
        self.steered = ""
        self.first_token_s = 0.0
        self.token_s = 0.0
        self.load_s = 0.0
        self.capabilities_s = 0.0
        self.capability_calls = 0
        #: Set when the model's profile is asked for; while ``capabilities_gate`` is given,
        #: the answer waits for it (a test edits the document meanwhile).
        self.capabilities_asked = asyncio.Event()
        self.capabilities_gate: asyncio.Event | None = None
        #: Prompt evaluation reported in the final chunk: (tokens/s, chars a token), or None.
        self.eval_rate: tuple[float, float] | None = None
        self.fail: ProviderError | None = None
        self.requests: list[CodeCompletionRequest] = []
        self.loads: list[tuple[str, int | None]] = []
        self.tokens_sent = 0
        self.closed_early = 0
        self.finished = 0
        self.streaming = asyncio.Event()
        self.closed = asyncio.Event()

    def name(self) -> str:
        return "fake"

    async def capabilities(self, model: str) -> ProviderCapabilities:
        self.capability_calls += 1
        self.capabilities_asked.set()
        if self.capabilities_gate is not None:
            await self.capabilities_gate.wait()
        if self.capabilities_s:
            await asyncio.sleep(self.capabilities_s)  # a model that is slow to describe, on purpose
        if isinstance(self.fail, ProviderError) and "capabilities" in self.fail.message:
            raise self.fail
        return ProviderCapabilities(
            supports_streaming=True,
            supports_code_completion=True,
            supports_chat=True,
            supports_insert=self.insert,
            context_window=self.context_window,
            lanes=self.lanes,
        )

    async def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        if request.top_logprobs:  # a guided-healing step: the answer's next token only
            text = self.as_model_writes(request.prompt, self._peek())[len(self.steered) :]
            token = next(iter(TOKEN.findall(text)), "")
            self.steered += token
            yield TextChunk(token, alternatives=(*self.alternatives, token) if token else ())
            yield TextChunk("", done=True, done_reason="length", generated_tokens=1)
            return
        text = self.responses.pop(0) if self.responses else self.default
        text = self.as_model_writes(request.prompt, text)
        if self.steered and text.startswith(self.steered):
            text = text[len(self.steered) :]  # the model continues what it was steered to
        self.steered = ""
        finished = False
        try:
            await asyncio.sleep(self.first_token_s)  # the model's pace is what tests time
            for i, token in enumerate(TOKEN.findall(text)[: request.max_tokens]):
                if i and self.token_s:
                    await asyncio.sleep(self.token_s)  # (flights, deadlines, grace periods)
                self.tokens_sent += 1
                self.streaming.set()
                yield TextChunk(token, logprob=self.token_logprob if request.logprobs else None)
            finished = True
            self.finished += 1
            tokens, ns, cached = 1, None, None
            if self.eval_rate is not None:
                rate, chars_per_token = self.eval_rate
                tokens = max(1, int(len(request.prompt) / chars_per_token))
                ns = int(tokens / rate * 1e9)
                held = common_prefix_len(request.prompt, self.slots.get(request.lane, ""))
                cached = int(held / chars_per_token)
                if self.clears_idle:
                    self.slots.clear()
                self.slots[request.lane] = request.prompt
            yield TextChunk(
                "",
                done=True,
                done_reason="stop",
                prompt_tokens=tokens,
                generated_tokens=1,
                prompt_eval_ns=ns,
                cached_tokens=cached,
            )
        finally:
            if not finished:
                self.closed_early += 1
                self.closed.set()

    @property
    def generations(self) -> list[CodeCompletionRequest]:
        """Requests that generate a suggestion (not the one-token steps of guided healing)."""
        return [r for r in self.requests if not r.top_logprobs]

    def _peek(self) -> str:
        return self.responses[0] if self.responses else self.default

    def as_model_writes(self, prompt: str, answer: str) -> str:
        """Scripted answers are what follows the cursor. When token healing backed the prompt
        up to the line start, a real model writes the line's indentation (``self.indent``)
        first: the engine must strip it (and anything else healing removed)."""
        head = prompt
        for marker in (" <SUF>", "<|fim_suffix|>", "<fim_suffix>"):
            head = head.split(marker, 1)[0]
        return self.indent + answer if head.endswith("\n") else answer

    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage:
        return ChatMessage("assistant", self.default)

    async def stream_chat(
        self, messages: Sequence[ChatMessage], *, model: str
    ) -> AsyncIterator[str]:
        yield self.default

    async def list_models(self) -> list[ModelInfo]:
        return []

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        yield PullProgress("success")

    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        self.loads.append((model, num_ctx))
        await asyncio.sleep(self.load_s)  # a model load takes time: the thing under test


class RecordingListener:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def unreachable(self, error: ProviderError) -> None:
        self.events.append(("unreachable", error.message))

    def reachable(self) -> None:
        self.events.append(("reachable", ""))

    def model_missing(self, error: ProviderError) -> None:
        self.events.append(("model_missing", error.message))

    def failed(self, error: ProviderError) -> None:
        self.events.append(("failed", error.message))
