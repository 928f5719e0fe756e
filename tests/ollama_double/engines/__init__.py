"""What answers a generation once Ollama's routing has accepted it: the engine seam.

``inference.py`` keeps Ollama's order of request checks, the scheduler (``runners.py``) keeps
Ollama's runner bookkeeping; an engine only (re)loads a runner, evaluates a prompt and samples
tokens. Two implementations sit behind the same HTTP surface:

* ``ScriptedEngine`` (default): a toy tokenizer and the answers tests script;
* ``LlamaEngine``: llama.cpp (``llama-cpp-python``) running real GGUF weights, for the models
  of the catalogue that have weights (``ModelSpec.weights``).

An engine reports what the runner did through ``Turn.record`` (fields of the request's
record) and hands each piece of text (with the ``logprobs`` entries of its tokens when
``Turn.logprobs`` asks for them, see ``logprobs``) to ``Turn.emit``, which writes it to the
client and raises ``ClientGone`` when the client has left; the engine must then stop within one
batch or token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..catalogue import ModelSpec
from ..logprobs import Entry, Wanted
from ..runners import Runner


class Emit(Protocol):
    def __call__(self, piece: str, logprobs: Sequence[Entry] = (), /) -> Awaitable[None]: ...


@dataclass
class Turn:
    """One generation as the runner sees it: the final prompt text and the merged options."""

    prompt: str
    num_ctx: int
    options: dict[str, Any]
    body: dict[str, Any]
    """The request body as sent (scripts match on it)."""
    model: str
    record: Callable[..., None]
    """Update the request's record (``phase``, ``prompt_tokens``, ``prompt_eval_count`` ...)."""
    emit: Emit
    """Send one piece of text with its tokens' ``logprobs`` entries; raises ``ClientGone``
    when the client has hung up."""
    logprobs: Wanted = field(default_factory=Wanted)
    """Whether to make ``logprobs`` entries, and how many ``top_logprobs`` in each (making
    them costs a pass over the vocabulary per token: only when asked)."""


@dataclass
class Result:
    """What the runner tells Ollama when a generation ends (the ``done`` line's numbers)."""

    done_reason: str = "stop"
    prompt_tokens: int = 0
    """The prompt's length after truncation: what Ollama reports as ``prompt_eval_count``."""
    evaluated: int = 0
    """Tokens actually evaluated (the rest came from the prompt cache)."""
    prompt_ns: int = 1
    eval_count: int = 0
    eval_ns: int = 1
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """The runner side of a model: load, tokenize, evaluate, sample."""

    def serves(self, spec: ModelSpec) -> bool:
        """Whether this engine can run ``spec`` (the scripted engine runs anything)."""
        ...

    async def load(self, runner: Runner) -> None:
        """Make ``runner`` ready with its ``num_ctx``; a reload gets a fresh ``Runner``."""
        ...

    def release(self, runner: Runner) -> None:
        """Free what ``load`` allocated (the runner was unloaded, evicted or replaced)."""
        ...

    def context_ids(self, runner: Runner, text: str) -> list[int]:
        """Token ids for the deprecated ``context`` array of a generate answer."""
        ...

    def context_text(self, runner: Runner, ids: list[int]) -> str:
        """A request's ``context`` ids back to text (Ollama prepends it to the prompt)."""
        ...

    async def generate(self, runner: Runner, turn: Turn) -> Result:
        """Evaluate ``turn.prompt`` (reusing the runner's cached prefix) and stream the answer."""
        ...
