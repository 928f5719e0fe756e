"""``OpenAIProvider``: the ``AiProvider`` interface on an OpenAI-compatible server.

Such a server serves the models it was started with, under the names it was given (llama_cpp.
server: ``--model_alias``), and knows no prompt template we could read: so the engine picks
the FIM template from the model name alone (``completion.templates``), builds the whole prompt
itself, and this provider sends it verbatim to ``/v1/completions`` — with ``suffix`` only for a
request that is not ``raw`` (then the server's own FIM handling is asked for).

The model list (``/v1/models``) is asked once and shared: it is how a model the server does not
serve is told apart, because llama_cpp.server answers any name with its default model. Model
management (pull, delete, load) is Ollama's alone: ``pull_model`` says so (``NeedsOllama``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from ..provider.errors import NeedsOllama
from ..provider.interface import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ProviderCapabilities,
    TextChunk,
)
from ..provider.store import ModelInfo, PullProgress
from .client import OpenAIClient
from .errors import ModelNotServed, RouteMissing
from .types import MAX_ALTERNATIVES, ModelListing, ServedModel

#: What llama-server's ``/v1/models`` says owns its models (only it knows ``id_slot``).
LLAMA_SERVER_OWNER = "llamacpp"
#: The context assumed when the server does not state one: llama_cpp.server's default
#: ``--n_ctx`` (its ``/v1/models`` says nothing about the context). A server started with a
#: larger context is used with prompts sized for 2048 tokens — the safe side, since a prompt
#: past the server's context is refused.
FALLBACK_CONTEXT_WINDOW = 2048


class OpenAIProvider(AiProvider):
    """Completion and chat over one ``OpenAIClient``; ``OpenAIProvider(OpenAIClient(endpoint,
    headers=..., verify=...))``."""

    def __init__(self, client: OpenAIClient, *, slot: int = 0, spare_slot: int = -1) -> None:
        self.client = client
        #: llama-server's slot our prompts stay in, sent as ``id_slot`` (-1: none sent).
        #: Why pin: llama-server gives a request the idle slot with the longest common start,
        #: and a slot still finishing the batch of a cancelled request is not idle, so the
        #: next keystroke's request went to a cold slot and evaluated its prompt from
        #: scratch (``cache_n`` 0). Pinned, it waits for that batch and finds its prompt
        #: (llama.vim pins slot 0 the same way).
        self.slot = slot
        #: A second slot (lane 1), where a pause prefills a wider window while ``slot`` keeps
        #: the window completions use: a prefill cut off by typing then costs nothing, and
        #: the next pause goes on with it (-1: none; prefills go to ``slot``). A server with
        #: fewer slots wraps the number around (``get_slot_by_id``), so with ``-np 1`` set -1.
        self.spare_slot = spare_slot
        self._listing: asyncio.Future[ModelListing | None] | None = None

    def name(self) -> str:
        return "openai"

    @property
    def host(self) -> str:
        return self.client.host

    async def version(self) -> str:
        """``openai-compatible`` and what the server says of itself (its ``Server`` header,
        the models' ``owned_by``), for ``check`` and ``ollama.status``; a cheap probe too."""
        listing = await self.client.list_models()
        self._remember(listing)
        told = [f"server: {listing.server}"] if listing.server else []
        owners = sorted({m.owned_by for m in listing.models if m.owned_by})
        if owners:
            told.append(f"owned_by: {', '.join(owners)}")
        return f"openai-compatible ({'; '.join(told)})" if told else "openai-compatible"

    def invalidate(self, model: str | None = None) -> None:
        """Ask ``/v1/models`` again next time (after a host change, say)."""
        self._listing = None

    async def capabilities(self, model: str) -> ProviderCapabilities:
        served = await self._served(model)
        return ProviderCapabilities(
            supports_streaming=True,
            supports_code_completion=True,
            supports_chat=True,
            supports_insert=False,  # we send the FIM tokens ourselves (raw prompts)
            context_window=(served and served.context_window) or FALLBACK_CONTEXT_WINDOW,
            template="",
            lanes=len(self._slots(served)) or 1,
        )

    def _slots(self, served: ServedModel | None) -> tuple[int, ...]:
        """The ``id_slot`` of each lane we may use: none unless the server is llama-server
        (only it knows ``id_slot``; vLLM and the rest never see it)."""
        if served is None or served.owned_by != LLAMA_SERVER_OWNER or self.slot < 0:
            return ()
        if self.spare_slot < 0 or self.spare_slot == self.slot:
            return (self.slot,)
        return (self.slot, self.spare_slot)

    async def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        slots = self._slots(await self._served(request.model))
        stream = self.client.complete_stream(
            request.model,
            request.prompt,
            suffix=None if request.raw else (request.suffix or None),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=request.stop,
            # 1 asks for the sampled token's log-probability (and one alternative)
            logprobs=max(min(request.top_logprobs, MAX_ALTERNATIVES), int(request.logprobs)),
            slot=slots[min(request.lane, len(slots) - 1)] if slots else None,
        )
        async for chunk in stream:
            if chunk.finish_reason:
                usage = chunk.usage
                yield TextChunk(
                    text=chunk.text,
                    done=True,
                    done_reason=chunk.finish_reason,
                    prompt_tokens=usage.prompt_tokens if usage else None,
                    generated_tokens=usage.completion_tokens if usage else None,
                    cached_tokens=usage.cached_tokens if usage else None,
                )
            else:
                yield TextChunk(
                    text=chunk.text, alternatives=chunk.alternatives, logprob=chunk.logprob
                )

    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage:
        return ChatMessage("assistant", await self.client.chat(model, messages))

    async def stream_chat(
        self, messages: Sequence[ChatMessage], *, model: str
    ) -> AsyncIterator[str]:
        async for piece in self.client.chat_stream(model, messages):
            yield piece

    async def list_models(self) -> list[ModelInfo]:
        listing = await self.client.list_models()
        self._remember(listing)
        return [ModelInfo(name=m.id) for m in listing.models]

    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        """Nothing to do: the server loaded its model when it started."""

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        raise NeedsOllama("Pulling models", self.host)
        yield  # pragma: no cover  (makes this an async generator, like every pull_model)

    # -- the served models ------------------------------------------------------------------

    async def _served(self, model: str) -> ServedModel | None:
        """``model``'s entry in ``/v1/models`` (asked once, again on a miss); None when the
        server has no such route. Raises ``ModelNotServed`` for a model it does not list."""
        listing = await self._shared_listing()
        if listing is not None and listing.get(model) is None:
            self._listing = None  # maybe started with more models since: ask once more
            listing = await self._shared_listing()
        if listing is None:
            return None
        served = listing.get(model)
        if served is None:
            raise ModelNotServed(model, listing.ids, self.host)
        return served

    async def _shared_listing(self) -> ModelListing | None:
        future = self._listing
        if future is None:
            future = asyncio.ensure_future(self._fetch_listing())
            self._listing = future
            future.add_done_callback(self._forget_failed)
        return await asyncio.shield(future)

    async def _fetch_listing(self) -> ModelListing | None:
        try:
            return await self.client.list_models()
        except RouteMissing:
            return None  # a server without /v1/models: every name is taken as served

    def _remember(self, listing: ModelListing) -> None:
        future = asyncio.get_running_loop().create_future()
        future.set_result(listing)
        self._listing = future

    def _forget_failed(self, future: asyncio.Future[ModelListing | None]) -> None:
        if (future.cancelled() or future.exception() is not None) and self._listing is future:
            self._listing = None
