"""The backend interfaces: ``AiProvider`` (completion, chat — every backend) and ``ModelStore``
(model management — Ollama only), their records, and provider-neutral errors.

Nothing here imports a backend: ``ollama/`` and ``openai/`` implement these, never the reverse.
"""

from .errors import ModelUnavailable, NeedsOllama, ProviderError, ProviderUnreachable
from .interface import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ProviderCapabilities,
    TextChunk,
)
from .store import ModelDetails, ModelInfo, ModelStore, PullProgress, RunningModel, ShowInfo

__all__ = [
    "AiProvider",
    "ChatMessage",
    "CodeCompletionRequest",
    "ModelDetails",
    "ModelInfo",
    "ModelStore",
    "ModelUnavailable",
    "NeedsOllama",
    "ProviderCapabilities",
    "ProviderError",
    "ProviderUnreachable",
    "PullProgress",
    "RunningModel",
    "ShowInfo",
    "TextChunk",
]
