"""The ``AiProvider`` interface: what the completion engine and the chat command need.

Completion and chat are what every backend can do — Ollama, and OpenAI-compatible servers
(llama.cpp's server, vLLM, TGI, LM Studio). Managing the models a server has (pull, delete,
load, ``ps``) is Ollama's alone and lives in ``store.ModelStore``; a backend without it says so
(``NeedsOllama``) instead of pretending. The engine is written against this interface, so it
stays free of HTTP and is tested with a fake provider.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from .store import ModelInfo, PullProgress

__all__ = [
    "AiProvider",
    "ChatMessage",
    "CodeCompletionRequest",
    "ProviderCapabilities",
    "TextChunk",
]


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
    #: Server slots we may keep apart (``CodeCompletionRequest.lane``): 2 where the client
    #: picks the slot (llama-server's ``id_slot``), so a prefill can grow a wider window in a
    #: spare slot without evicting the one completions use; 1 elsewhere.
    lanes: int = 1


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
    #: Ask for each generated token's log-probability: how sure the model is of a suggestion
    #: decides whether the one after it is worth speculating (``completion/speculation.py``).
    logprobs: bool = False
    #: Which document asks (its uri): a pool of hosts sends a document's requests to the host
    #: that served it last, whose prompt cache holds this document's prompt start.
    affinity: str = ""
    #: Which of our slots on the server evaluates it (below ``ProviderCapabilities.lanes``):
    #: lane 0 is the ``slot`` setting, lane 1 the ``spareSlot``; a backend with one lane
    #: ignores it.
    lane: int = 0


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
    #: Of ``prompt_tokens``, those the backend took from its cache, when it says (OpenAI's
    #: ``prompt_tokens_details.cached_tokens``): tells whether a slot kept what we left there.
    cached_tokens: int | None = None
    #: With ``top_logprobs``: the most probable tokens at this chunk's (first) token,
    #: most probable first, the sampled one among them.
    alternatives: tuple[str, ...] = ()
    #: With ``logprobs``: the sum of this chunk's tokens' log-probabilities (None when the
    #: backend sent none: an older Ollama, a server without logprobs).
    logprob: float | None = None


class AiProvider(ABC):
    """A source of code completions and chat answers, and the models it can serve."""

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
    async def list_models(self) -> list[ModelInfo]:
        """The models this backend can serve now (Ollama: installed; OpenAI: ``/v1/models``)."""

    @abstractmethod
    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        """Make the next completion with ``model`` fast: Ollama loads it with the runner
        options completions will use; a server that loads its model at start does nothing."""

    @abstractmethod
    def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        """Download ``name`` with progress; ``NeedsOllama`` where the backend cannot."""
