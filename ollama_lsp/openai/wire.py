"""The OpenAI-compatible wire format: routes, request bodies, SSE lines, statuses as typed errors.

Kept apart from ``client`` so the client reads as the API it offers, and these rules — taken
from OpenAI's API reference and from what llama_cpp.server really answers — are tested alone.

What llama_cpp.server (0.3.36) answers, which the mapping below is built on:

* An unknown ``model`` is *not* an error: it is served by the default model, and the answer
  echoes the requested name. Only ``GET /v1/models`` tells; the provider checks it.
* A prompt longer than the context: 400 ``{"error": {"code": "context_length_exceeded"}}`` when
  not streamed; streamed, a 200 whose body ends with no event at all.
* A body that does not validate: 500 with ``{"error": {"type": "internal_server_error"}}``; an
  unknown route: 404 ``{"detail": "Not Found"}``; a wrong ``--api_key``: 401 ``{"detail": ...}``.
* Streams are ``data: {json}`` lines with blank separators, ``data: [DONE]`` at the end, and
  ``: ping`` comments; ``stream_options`` is ignored, so streamed answers carry no ``usage``.

What llama.cpp's own llama-server answers differently: any ``model`` is served by the loaded
one too (only ``/v1/models`` tells, with the slot context in ``meta.n_ctx``); a prompt longer
than a slot's context is a 400 ``{"error": {"code": 400, "type": "exceed_context_size_error"}}``
(streamed or not); logprobs come in the chat shape (``logprobs.content``); the last event
carries ``usage`` and llama-server's ``timings``.

Others (OpenAI, vLLM) answer an unknown model with 404 or 400 and ``code: model_not_found``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from ..http.endpoint import redact_userinfo
from ..provider.errors import CredentialsRejected
from ..provider.interface import ChatMessage
from .errors import (
    ContextExceeded,
    MalformedResponse,
    ModelNotServed,
    OpenAIError,
    OpenAIHTTPError,
    OpenAIRedirect,
    RouteMissing,
)

#: The marker that ends a stream.
DONE = b"[DONE]"


def api_path(base_url: str, route: str) -> str:
    """``route`` (``/completions``) under ``/v1``, unless the base URL already ends in it."""
    if base_url.rstrip("/").endswith("/v1"):
        return route
    return "/v1" + route


def completion_body(
    model: str,
    prompt: str,
    *,
    suffix: str | None,
    max_tokens: int,
    temperature: float,
    top_p: float | None,
    stop: Sequence[str],
    logprobs: int,
    include_usage: bool,
    slot: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stream": True,
    }
    if suffix is not None:
        body["suffix"] = suffix
    if top_p is not None:
        body["top_p"] = top_p
    if stop:
        body["stop"] = list(stop)
    if logprobs > 0:
        body["logprobs"] = logprobs
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    if slot is not None:
        body["id_slot"] = slot  # llama-server only: the slot that holds our prompt
    return body


def chat_body(
    model: str, messages: Sequence[ChatMessage], *, stream: bool, include_usage: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [m.to_json() for m in messages],
        "stream": stream,
    }
    if stream and include_usage:
        body["stream_options"] = {"include_usage": True}
    return body


def sse_data(line: bytes) -> bytes | None:
    """The payload of a ``data:`` line; None for comments (``: ping``) and other fields.

    Each event is taken to be one ``data:`` line, as every OpenAI-compatible server sends them
    (multi-line ``data`` is legal SSE but carries no JSON any of them writes)."""
    line = line.rstrip(b"\r")
    field, colon, value = line.partition(b":")
    if not colon or field != b"data":
        return None
    return value[1:] if value.startswith(b" ") else value


def check_status(
    host: str,
    response: httpx.Response,
    content: bytes,
    *,
    what: str,
    path: str,
    model: str | None,
) -> None:
    """Raise the typed error for a 3xx, 4xx or 5xx answer; a 2xx passes."""
    status = response.status_code
    if response.is_redirect or 300 <= status < 400:
        location = redact_userinfo(response.headers.get("location", "")) or "nowhere"
        raise OpenAIRedirect(host, status, location, what=what)
    if status in (401, 403):
        raise CredentialsRejected(host, status)
    if status >= 400:
        message, code = error_fields(content)
        raise status_error(host, status, message, code, what=what, path=path, model=model)


def error_fields(content: bytes) -> tuple[str, str | None]:
    """``(message, code)`` of an error body: OpenAI's ``{"error": {...}}``, FastAPI's
    ``{"detail": ...}``, a bare ``{"error": "text"}``, or the text itself."""
    text = content[:2000].decode("utf-8", "replace").strip()
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return text, None
    if not isinstance(data, dict):
        return text, None
    error = data.get("error", data.get("detail"))
    if isinstance(error, dict):
        code = error.get("code")
        if code is None or isinstance(code, int):  # llama-server: the HTTP status, and a type
            code = error.get("type", code)
        message = error.get("message")
        return (str(message) if message else text), (str(code) if code is not None else None)
    if error is not None:
        return str(error)[:2000], None
    return text, None


def status_error(
    host: str,
    status: int,
    message: str,
    code: str | None,
    *,
    what: str,
    path: str,
    model: str | None,
) -> OpenAIError:
    if model is not None and status in (400, 404) and _names_missing_model(message, code):
        return ModelNotServed(model, (), host, status=status)
    if code in ("context_length_exceeded", "exceed_context_size_error"):
        return ContextExceeded(host, message[:300])
    if status == 404:
        return RouteMissing(host, path, what=what)
    return OpenAIHTTPError(host, status, message or f"HTTP {status}", what=what, code=code)


def _names_missing_model(message: str, code: str | None) -> bool:
    if code == "model_not_found":
        return True
    text = message.lower()
    return "model" in text and ("does not exist" in text or "not found" in text)


def stream_error(data: dict[str, Any]) -> tuple[str, str | None] | None:
    """``(message, code)`` when an event is an error report (``{"error": ...}``), else None."""
    error = data.get("error")
    if error is None:
        return None
    if isinstance(error, dict):
        code = error.get("code")
        return str(error.get("message") or error), (str(code) if code is not None else None)
    return str(error)[:2000], None


def parse(content: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply", what=what) from None
    except ValueError:
        snippet = content[:80].decode("utf-8", "replace")
        raise MalformedResponse(f"not JSON: {snippet!r}", what=what) from None
    if not isinstance(data, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(data).__name__}", what=what)
    return data


def describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
