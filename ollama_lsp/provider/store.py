"""The model store: what a server that manages its own models offers (Ollama does), and the
plain records of what it lists.

Separate from ``AiProvider`` because only Ollama has it: an OpenAI-compatible server serves the
models it was started with. The model manager takes a ``ModelStore``; where there is none, the
commands that need one answer ``NeedsOllama``. The records are plain data — parsing Ollama's
JSON into them is ``ollama.types``'s job — so that any backend can fill them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ModelDetails", "ModelInfo", "ModelStore", "PullProgress", "RunningModel", "ShowInfo"]


@dataclass(frozen=True, slots=True)
class ModelDetails:
    family: str = ""
    parameter_size: str = ""
    quantization_level: str = ""
    format: str = ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """An installed model, as ``GET /api/tags`` lists it."""

    name: str
    size: int = 0
    digest: str = ""
    modified_at: str = ""
    details: ModelDetails = field(default_factory=ModelDetails)


@dataclass(frozen=True, slots=True)
class ShowInfo:
    """What ``POST /api/show`` says about one model: template, capabilities, context length."""

    template: str = ""
    parameters: str = ""
    capabilities: tuple[str, ...] = ()
    details: ModelDetails = field(default_factory=ModelDetails)
    context_length: int | None = None
    architecture: str = ""
    model_info: dict[str, Any] = field(default_factory=dict)
    vocab_size: int | None = None
    """Tokens in the vocabulary (``tensors``' ``token_embd.weight`` shape): ``model_info``
    shows the token list empty, and the output buffers a model needs grow with it."""

    @property
    def supports_insert(self) -> bool:
        """Ollama grants ``insert`` exactly when the model's template uses ``.Suffix``."""
        return "insert" in self.capabilities or ".Suffix" in self.template


@dataclass(frozen=True, slots=True)
class RunningModel:
    """A model loaded in memory, as ``GET /api/ps`` lists it."""

    name: str
    size: int = 0
    size_vram: int = 0
    expires_at: str = ""
    context_length: int | None = None
    details: ModelDetails = field(default_factory=ModelDetails)


@dataclass(frozen=True, slots=True)
class PullProgress:
    """One line of a pull: ``pulling manifest``, ``pulling <digest>`` with bytes, ..."""

    status: str
    digest: str = ""
    total: int | None = None
    completed: int | None = None

    @property
    def done(self) -> bool:
        return self.status == "success"


class ModelStore(Protocol):
    """Model management on one server (Ollama's ``tags``/``show``/``pull``/``delete``/``ps``).

    ``host`` is where it is, as users see it (never a password)."""

    @property
    def host(self) -> str: ...

    async def version(self) -> str: ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def show(self, model: str) -> ShowInfo: ...

    async def running(self) -> list[RunningModel]: ...

    def pull_model(self, name: str) -> AsyncIterator[PullProgress]: ...

    async def delete(self, model: str) -> None: ...

    async def load_model(self, model: str, *, num_ctx: int | None = None) -> None: ...

    async def unload_model(self, model: str) -> None: ...
