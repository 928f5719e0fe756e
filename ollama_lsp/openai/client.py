"""The only code that speaks the OpenAI-compatible HTTP API (``/v1/completions``, ``/v1/models``,
``/v1/chat/completions``): llama.cpp's servers, vLLM, TGI, LM Studio.

The same guarantees as ``ollama.client``, on the same plumbing (``ollama_lsp.http``; the
request discipline is in ``calls``):

* one keep-alive pool (``Connections``), rebuilt if httpcore ever loses its connections;
* every request in a task of its own (``Exchange``): cancelling a caller never cancels httpx
  mid-request; leaving a stream early aborts the exchange, which closes the connection — how
  the server learns to stop generating (llama_cpp.server checks between tokens);
* a short connect timeout, a generous first-byte timeout (headers), none once a stream flows,
  a total timeout on small JSON calls; redirects never followed; lines, bodies and a stream's
  text capped; ``headers=`` (a Bearer token) and ``verify=`` (TLS trust) on every request.

Streams are server-sent events: one ``data: {json}`` line per event and ``data: [DONE]`` last.
An ``{"error": ...}`` event is a typed error; ``[DONE]`` before any ``finish_reason`` is a cut
answer (``StreamInterrupted``); a stream that ends with neither is malformed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from ..http.client import HttpClient, TextBudget
from ..http.endpoint import Endpoint
from ..provider.interface import ChatMessage
from . import wire
from .calls import END, Calls, until_drained
from .errors import MalformedResponse, ResponseTooLarge, StreamInterrupted
from .types import CompletionChunk, ModelListing, chat_delta, completion_chunk, model_listing

#: llama_cpp.server answers a streamed prompt longer than its context with a 200 and no event.
_EMPTY_STREAM = (
    "the stream ended without a single event; the prompt may be longer than the server's "
    "context (lower `ollama.completion.contextTokens`, or start the server with a larger "
    "one: llama_cpp.server --n_ctx)"
)


class OpenAIClient(HttpClient):
    """Async client for one OpenAI-compatible server. Cheap to keep for the life of the process.

    ``host``'s URL is the server's base: ``http://h:8000`` or ``http://h:8000/v1`` (``/v1`` is
    added unless the URL ends in it). ``include_usage`` asks streams for token counts
    (``stream_options``; servers that do not know it ignore it)."""

    def __init__(
        self, host: str | Endpoint | None = None, *, include_usage: bool = True, **options: Any
    ) -> None:
        """``options`` are ``HttpClient``'s (timeouts, limits, ``headers``, ``verify``)."""
        super().__init__(host, **options)
        self.include_usage = include_usage
        self._calls = Calls(
            self._connections,
            request_timeout=self.request_timeout,
            first_byte_timeout=self.first_byte_timeout,
            served=self._served_quietly,
        )

    # -- the API ----------------------------------------------------------------------------

    async def list_models(self) -> ModelListing:
        """``GET /v1/models``: the models the server serves (what it was started with)."""
        data, response = await self._calls.json(
            "GET", "/models", None, what="the model list request"
        )
        return model_listing(data, response.headers.get("server", ""))

    async def complete_stream(
        self,
        model: str,
        prompt: str,
        *,
        suffix: str | None = None,
        max_tokens: int = 128,
        temperature: float = 0.2,
        top_p: float | None = None,
        stop: Sequence[str] = (),
        logprobs: int = 0,
        slot: int | None = None,
    ) -> AsyncIterator[CompletionChunk]:
        """Stream ``/v1/completions``: chunks with text, then one with ``finish_reason`` (and
        ``usage`` when the server sends it) and no text. ``slot``: llama-server's ``id_slot``."""
        body = wire.completion_body(
            model, prompt, suffix=suffix, max_tokens=max_tokens, temperature=temperature,
            top_p=top_p, stop=stop, logprobs=logprobs, include_usage=self.include_usage,
            slot=slot,
        )  # fmt: skip
        what = "the completion request"
        budget = TextBudget(self.max_text_chars, lambda d: ResponseTooLarge(d, what=what))
        finish, usage, events_seen = "", None, 0
        events = self._calls.events("/completions", body, what=what, model=model)
        drained = until_drained(events, lambda: bool(finish))
        async with aclosing(events), aclosing(drained):
            async for data in drained:
                if data is END:
                    if not finish:
                        raise StreamInterrupted(self.host, what=what)
                    break
                events_seen += 1
                chunk = completion_chunk(data)
                usage = chunk.usage or usage
                if chunk.text:
                    budget.spend(chunk.text)
                    yield CompletionChunk(
                        chunk.text, alternatives=chunk.alternatives, logprob=chunk.logprob
                    )
                finish = finish or chunk.finish_reason
        if not events_seen:
            raise MalformedResponse(_EMPTY_STREAM, what=what)
        if not finish:
            raise MalformedResponse("the stream ended before the answer was finished", what=what)
        yield CompletionChunk(finish_reason=finish, usage=usage)

    async def chat(self, model: str, messages: Sequence[ChatMessage]) -> str:
        """Non-streamed ``/v1/chat/completions``: the answer's text."""
        body = wire.chat_body(model, messages, stream=False, include_usage=False)
        timeout = self.first_byte_timeout
        data, _ = await self._calls.json(
            "POST", "/chat/completions", body, what="the chat request", model=model, limit=timeout
        )
        return chat_delta(data).content

    async def chat_stream(self, model: str, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Streamed ``/v1/chat/completions``: the answer's text pieces."""
        body = wire.chat_body(model, messages, stream=True, include_usage=self.include_usage)
        what = "the chat request"
        budget = TextBudget(self.max_text_chars, lambda d: ResponseTooLarge(d, what=what))
        finish = ""
        events = self._calls.events("/chat/completions", body, what=what, model=model)
        drained = until_drained(events, lambda: bool(finish))
        async with aclosing(events), aclosing(drained):
            async for data in drained:
                if data is END:
                    if not finish:
                        raise StreamInterrupted(self.host, what=what)
                    break
                delta = chat_delta(data)
                if delta.content:
                    budget.spend(delta.content)
                    yield delta.content
                finish = finish or delta.finish_reason
        if not finish:
            raise MalformedResponse("the stream ended before the answer was finished", what=what)

    # -- plumbing ---------------------------------------------------------------------------

    async def _served_quietly(self) -> tuple[str, ...]:
        """The served model ids for an error message; none if the listing fails too."""
        try:
            return (await self.list_models()).ids
        except Exception:  # the message goes out without the list
            return ()
