"""Typed records for what an OpenAI-compatible server sends, parsed leniently.

Servers differ in what they add to OpenAI's shapes (llama_cpp.server, vLLM, llama.cpp's
llama-server, LM Studio, TGI), so unknown keys are ignored, every field is optional, and a value
that makes no sense (a negative count, a log-probability above 0, ``NaN``) is dropped as unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ChatDelta",
    "CompletionChunk",
    "ModelListing",
    "ServedModel",
    "Usage",
    "chat_delta",
    "completion_chunk",
    "model_listing",
]

#: Keys under which servers state the context a model is *served* with: vLLM's
#: ``max_model_len``, ``context_length``/``context_window`` of other OpenAI-style listings,
#: and llama-server's ``meta.n_ctx`` (one slot's context: what a single request may use).
#: Not its ``meta.n_ctx_train``: that is the training context, often larger than the one the
#: server runs with, and a prompt sized to it would be refused.
_CONTEXT_KEYS = ("max_model_len", "context_length", "context_window")

#: No server sends more alternatives than this per token (Ollama's and vLLM's cap is 20).
MAX_ALTERNATIVES = 20


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _logprob(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if -math.inf < number <= 0.0:
            return number
    return None


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One entry of ``GET /v1/models``; ``context_window`` when the server states it."""

    id: str
    owned_by: str = ""
    context_window: int | None = None


@dataclass(frozen=True, slots=True)
class ModelListing:
    """``GET /v1/models``, and the ``Server`` header it came with (``uvicorn``, ...)."""

    models: tuple[ServedModel, ...]
    server: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.models)

    def get(self, model: str) -> ServedModel | None:
        return next((m for m in self.models if m.id == model), None)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: ``prompt_tokens_details.cached_tokens``: the prompt tokens the server took from its
    #: cache (llama-server: from the slot; vLLM with prefix caching); None when not said.
    cached_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class CompletionChunk:
    """One streamed ``text_completion`` event (its first choice).

    ``alternatives``: the most probable tokens at the event's first token, most probable first
    (from ``logprobs.top_logprobs[0]``, a token -> log-probability map); ``logprob``: the sum
    of the event's sampled tokens' log-probabilities, when sent."""

    text: str = ""
    finish_reason: str = ""
    alternatives: tuple[str, ...] = ()
    usage: Usage | None = None
    logprob: float | None = None


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """One streamed ``chat.completion.chunk`` (its first choice's ``delta``)."""

    content: str = ""
    finish_reason: str = ""
    usage: Usage | None = None


def model_listing(data: dict[str, Any], server: str = "") -> ModelListing:
    entries = data.get("data")
    models: list[ServedModel] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not _str(entry.get("id")):
            continue
        meta = entry.get("meta")
        stated = [entry.get(key) for key in _CONTEXT_KEYS]
        stated.append(meta.get("n_ctx") if isinstance(meta, dict) else None)
        window = next((n for value in stated if (n := _count(value))), None)  # 0: unknown
        models.append(ServedModel(entry["id"], _str(entry.get("owned_by")), window))
    return ModelListing(tuple(models), server)


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None
    details = value.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(
        _count(value.get("prompt_tokens")), _count(value.get("completion_tokens")), _count(cached)
    )


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        return {}
    dicts = [c for c in choices if isinstance(c, dict)]
    return next((c for c in dicts if c.get("index", 0) == 0), dicts[0] if dicts else {})


def _alternatives(logprobs: Any) -> tuple[str, ...]:
    """The first token's alternatives sorted by probability (JSON object order is not a
    promise), from either shape servers send: the legacy completions ``top_logprobs`` (a list
    of token -> log-probability maps: llama_cpp.server, vLLM) or the chat-style ``content``
    (a list of ``{token, logprob, top_logprobs: [{token, logprob}]}``: llama.cpp's
    llama-server on ``/v1/completions`` too)."""
    if not isinstance(logprobs, dict):
        return ()
    top = logprobs.get("top_logprobs")
    content = logprobs.get("content")
    if isinstance(top, list) and top and isinstance(top[0], dict):
        pairs = list(top[0].items())
    elif isinstance(content, list) and content and isinstance(content[0], dict):
        listed = content[0].get("top_logprobs")
        entries = listed if isinstance(listed, list) else ()
        pairs = [(e.get("token"), e.get("logprob")) for e in entries if isinstance(e, dict)]
    else:
        return ()
    ranked = [
        (p, token)
        for token, value in pairs
        if isinstance(token, str) and (p := _logprob(value)) is not None
    ]
    ranked.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep the server's order
    return tuple(token for _, token in ranked[:MAX_ALTERNATIVES])


def _sampled(logprobs: Any) -> float | None:
    """The sum of the sampled tokens' log-probabilities, from either shape: the legacy
    ``token_logprobs`` (a list of numbers) or the chat-style ``content`` (``logprob`` of each
    entry); None when absent or any value is not a log-probability."""
    if not isinstance(logprobs, dict):
        return None
    listed = logprobs.get("token_logprobs")
    if not isinstance(listed, list):
        content = logprobs.get("content")
        if not isinstance(content, list):
            return None
        listed = [e.get("logprob") if isinstance(e, dict) else None for e in content]
    values = [_logprob(v) for v in listed]
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def completion_chunk(data: dict[str, Any]) -> CompletionChunk:
    choice = _first_choice(data)
    logprobs = choice.get("logprobs")
    return CompletionChunk(
        text=_str(choice.get("text")),
        finish_reason=_str(choice.get("finish_reason")),
        alternatives=_alternatives(logprobs),
        usage=_usage(data.get("usage")),
        logprob=_sampled(logprobs),
    )


def chat_delta(data: dict[str, Any]) -> ChatDelta:
    choice = _first_choice(data)
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        delta = choice.get("message")  # a non-streamed answer has the whole message
    content = _str(delta.get("content")) if isinstance(delta, dict) else ""
    return ChatDelta(content, _str(choice.get("finish_reason")), _usage(data.get("usage")))
