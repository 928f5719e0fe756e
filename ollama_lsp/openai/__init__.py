"""Everything that knows the OpenAI-compatible HTTP API (``/v1/completions``, ``/v1/models``),
and nothing about LSP: a second backend behind the same ``AiProvider`` interface as Ollama,
for llama.cpp's servers, vLLM, TGI and LM Studio (``ollama.api = "openai"``).

``OpenAIProvider(OpenAIClient(endpoint, headers=..., verify=...))``.
"""

from .client import OpenAIClient
from .errors import (
    ContextExceeded,
    MalformedResponse,
    ModelNotServed,
    OpenAIError,
    OpenAIHTTPError,
    OpenAIRedirect,
    OpenAIStreamError,
    OpenAITimeout,
    OpenAIUnreachable,
    PoolExhausted,
    ResponseTooLarge,
    RouteMissing,
    StreamInterrupted,
)
from .provider import FALLBACK_CONTEXT_WINDOW, OpenAIProvider

__all__ = [
    "FALLBACK_CONTEXT_WINDOW",
    "ContextExceeded",
    "MalformedResponse",
    "ModelNotServed",
    "OpenAIClient",
    "OpenAIError",
    "OpenAIHTTPError",
    "OpenAIProvider",
    "OpenAIRedirect",
    "OpenAIStreamError",
    "OpenAITimeout",
    "OpenAIUnreachable",
    "PoolExhausted",
    "ResponseTooLarge",
    "RouteMissing",
    "StreamInterrupted",
]
