"""The ``AiProvider`` interface: what the completion engine and commands need from a backend.

Ollama is the only backend today, but the engine is written against this interface so that
it stays free of HTTP details and can be tested with any provider. The records and error
classes here are provider-neutral (a backend's errors subclass them, so the engine can react
to "unreachable" or "model missing" without knowing Ollama); model listings and pull
progress reuse Ollama's records because they are plain data any backend can fill.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ollama.types import ModelInfo, PullProgress

__all__ = [
    "AiProvider",
    "ChatMessage",
    "CodeCompletionRequest",
    "ModelUnavailable",
    "ProviderCapabilities",
    "ProviderError",
    "ProviderUnreachable",
    "TextChunk",
]


class ProviderError(Exception):
    """A backend failed; ``message`` is written for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnreachable(ProviderError):
    """The backend is not running or not where we look: report once, retry quietly."""


class ModelUnavailable(ProviderError):
    """The model is not installed; ``model`` names it so the user can be offered a pull."""

    model: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    """What one model can do. ``template`` is the model's prompt template, when known."""

    supports_streaming: bool
    supports_code_completion: bool
    supports_chat: bool
    supports_insert: bool
    context_window: int
    template: str = ""


@dataclass(frozen=True, slots=True)
class CodeCompletionRequest:
    """One completion: the exact prompt fields plus sampling options.

    ``raw`` sends ``prompt`` verbatim (hand-built FIM tokens); otherwise ``suffix`` asks the
    backend's own template to build the fill-in-the-middle prompt.
    """

    model: str
    prompt: str
    suffix: str | None = None
    raw: bool = False
    max_tokens: int = 128
    temperature: float = 0.2
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    num_ctx: int | None = None
    #: Ask for this many most probable alternatives of each generated token (0: none).
    #: Guided token healing uses them to steer the first tokens (``completion/healing.py``).
    top_logprobs: int = 0


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of generated text; the last one has ``done`` and the token counts."""

    text: str
    done: bool = False
    done_reason: str = ""
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    #: How long the backend spent evaluating ``prompt_tokens`` (learns the prompt budget).
    prompt_eval_ns: int | None = None
    #: With ``top_logprobs``: the most probable tokens at this chunk's (first) token,
    #: most probable first, the sampled one among them.
    alternatives: tuple[str, ...] = ()


class AiProvider(ABC):
    """A source of code completions and chat answers."""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def capabilities(self, model: str) -> ProviderCapabilities: ...

    @abstractmethod
    def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        """Stream the completion; closing the iterator early must stop the backend's work."""

    @abstractmethod
    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage: ...

    @abstractmethod
    def stream_chat(self, messages: Sequence[ChatMessage], *, model: str) -> AsyncIterator[str]:
        """Stream the answer's text pieces."""

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]: ...

    @abstractmethod
    async def load_model(self, model: str, *, num_ctx: int | None = None) -> None:
        """Bring ``model`` into memory with the runner options completions will use."""

    @abstractmethod
    async def unload_model(self, model: str) -> None:
        """Free ``model``'s memory now."""

    @abstractmethod
    def pull_model(self, name: str) -> AsyncIterator[PullProgress]: ...
