"""Ollama's wire format: request bodies, JSON and status parsing, and its errors typed.

Kept apart from ``client`` so that the client reads as the API it offers, and these rules —
each taken from how Ollama's handlers answer (``server/routes.go``) — are tested on their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from ..http.endpoint import redact_userinfo
from ..provider.errors import CredentialsRejected
from .errors import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaError,
    OllamaHTTPError,
    OllamaRedirect,
    OllamaStreamError,
)
from .types import ChatMessage, GenerateOptions

KeepAlive = str | int | float | None


def check_status(
    host: str, response: httpx.Response, content: bytes, what: str, model: str | None
) -> None:
    """Raise the typed error for a 3xx, 4xx or 5xx answer; a 2xx passes."""
    status = response.status_code
    if response.is_redirect or 300 <= status < 400:
        location = redact_userinfo(response.headers.get("location", "")) or "nowhere"
        raise OllamaRedirect(host, status, location, what=f"the {what} request")
    if status in (401, 403) and b"signin_url" not in content:
        # Ollama has no authentication of its own: a 401/403 comes from the proxy in front
        # of it. (Ollama's own 401 for ollama.com models carries a ``signin_url``.)
        raise CredentialsRejected(host, status)
    if status >= 400:
        raise status_error(status, content, what, model)


def status_error(status: int, content: bytes, what: str, model: str | None) -> OllamaError:
    text = content[:2000].decode("utf-8", "replace").strip()
    try:
        data = json.loads(content)
        text = str(data["error"]) if isinstance(data, dict) and "error" in data else text
    except (ValueError, RecursionError):
        pass
    return error_text(text or f"HTTP {status}", status, what, model)


def error_text(text: str, status: int | None, what: str, model: str | None) -> OllamaError:
    """Map Ollama's error strings to typed errors (strings per Ollama's handlers)."""
    text = text[:2000]
    if model is not None:
        if "model" in text and "not found" in text:
            return ModelNotFound(model, status=status)
        if "does not support insert" in text:
            return InsertNotSupported(model, text)
        if what == "pull" and "pull model manifest" in text:
            return ModelNotInLibrary(model, text)
    if status is None:
        return OllamaStreamError(text, what=what)
    return OllamaHTTPError(status, text, what=what)


def generate_body(
    model: str,
    prompt: str,
    suffix: str | None,
    raw: bool,
    system: str | None,
    options: GenerateOptions | None,
    keep_alive: KeepAlive,
    stream: bool,
) -> dict[str, Any]:
    return drop_none(
        {
            "model": model,
            "prompt": prompt,
            "suffix": suffix,
            "system": system,
            "raw": raw or None,
            # Ollama thinks by default on thinking-capable models unless told not to; a
            # completion wants the answer only (raw prompts bypass the template, and thinking).
            "think": None if raw else False,
            "stream": stream,
            "options": options.to_json() if options else None,
            "keep_alive": keep_alive,
        }
    )


def logprobs_fields(logprobs: bool, top_logprobs: int) -> dict[str, Any]:
    """Top-level request fields (not ``options``): ``top_logprobs`` alone returns nothing,
    Ollama only looks at it when ``logprobs`` is true (``api/types.go``)."""
    if top_logprobs > 0:
        return {"logprobs": True, "top_logprobs": top_logprobs}
    return {"logprobs": True} if logprobs else {}


def chat_body(
    model: str,
    messages: Iterable[ChatMessage],
    options: GenerateOptions | None,
    keep_alive: KeepAlive,
    stream: bool,
) -> dict[str, Any]:
    return drop_none(
        {
            "model": model,
            "messages": [m.to_json() for m in messages],
            "stream": stream,
            "options": options.to_json() if options else None,
            "keep_alive": keep_alive,
        }
    )


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def parse(content: bytes | str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply", what=what) from None
    except ValueError:
        snippet = (
            content[:80] if isinstance(content, str) else content[:80].decode("utf-8", "replace")
        )
        raise MalformedResponse(f"not JSON: {snippet!r}", what=what) from None
    if not isinstance(data, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(data).__name__}", what=what)
    return data


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
