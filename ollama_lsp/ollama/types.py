"""Typed records for what Ollama sends and the options we send it.

Parsing is deliberately lenient in the same way as Ollama's own clients: unknown keys are
ignored and every metric is optional (older servers omit them, and Go's ``omitempty`` drops
zeros), so a newer or older Ollama does not break us. Only the fields we use are kept, and
a value that makes no sense (a negative size, ``1e400``, a context length of 0 or less) is
dropped as unknown rather than passed on to arithmetic, the user or Ollama's ``num_ctx``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ..provider.interface import ChatMessage
from ..provider.store import ModelDetails, ModelInfo, PullProgress, RunningModel, ShowInfo

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "GenerateChunk",
    "GenerateOptions",
    "Logprob",
    "Metrics",
    "ModelDetails",
    "ModelInfo",
    "PullProgress",
    "RunningModel",
    "ShowInfo",
    "TokenLogprob",
    "model_details",
    "model_info",
    "pull_progress",
    "running_model",
    "show_info",
]


#: Go's int64: no size, count or duration Ollama sends can be larger.
_INT64_MAX = 2**63 - 1


def _count(value: Any) -> int | None:
    """A size, count or duration: a whole number from 0 to int64's max, else unknown.

    A negative size, ``1e400`` (which Python reads as ``inf``) or a 400-digit number is not
    something Ollama sends; taking it would show negative sizes or crash arithmetic later.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _INT64_MAX:
        return value
    return None


def _positive(value: Any) -> int | None:
    """A context length: at least 1, else unknown (``num_ctx`` derived from it must be > 0)."""
    count = _count(value)
    return count if count else None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _logprob(value: Any) -> float | None:
    """A log-probability: a finite number <= 0, else unknown (Go cannot even send NaN)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if -math.inf < number <= 0.0:
            return number
    return None


#: Ollama sends at most 20 ``top_logprobs`` per token; a longer list is cut, not trusted.
MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One token and its log-probability (Ollama's ``api.TokenLogprob``; ``bytes`` unused)."""

    token: str
    logprob: float

    @classmethod
    def from_json(cls, data: Any) -> TokenLogprob | None:
        """None for an entry without a text token or a sane ``logprob``."""
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            return None
        logprob = _logprob(data.get("logprob"))
        return None if logprob is None else cls(data["token"], logprob)


@dataclass(frozen=True, slots=True)
class Logprob:
    """A generated token with its log-probability and, when asked for, the most probable
    tokens at its position (``top_logprobs``) as Ollama sent them."""

    token: str
    logprob: float
    top_logprobs: tuple[TokenLogprob, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> Logprob | None:
        sampled = TokenLogprob.from_json(data)
        if sampled is None:
            return None
        top = data.get("top_logprobs")
        entries = (TokenLogprob.from_json(t) for t in (top if isinstance(top, list) else ()))
        kept = tuple(t for t in entries if t is not None)[:MAX_TOP_LOGPROBS]
        return cls(sampled.token, sampled.logprob, kept)

    def alternatives(self) -> tuple[str, ...]:
        """The ``top_logprobs`` tokens, most probable first, with the sampled token among them
        (Ollama ranks the raw distribution, so a sampled token can fall outside its top N).
        Empty when Ollama sent no ``top_logprobs``: then there is nothing to rank."""
        if not self.top_logprobs:
            return ()
        ranked = list(self.top_logprobs)
        if all(t.token != self.token for t in ranked):
            ranked.append(TokenLogprob(self.token, self.logprob))
        ranked.sort(key=lambda t: -t.logprob)  # stable: Ollama's order among equals
        return tuple(dict.fromkeys(t.token for t in ranked))


def _logprobs(value: Any) -> tuple[Logprob, ...]:
    entries = (Logprob.from_json(e) for e in (value if isinstance(value, list) else ()))
    return tuple(e for e in entries if e is not None)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Timings Ollama reports on the final chunk, in nanoseconds; all optional."""

    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metrics:
        return cls(**{name: _count(data.get(name)) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class GenerateChunk:
    """One NDJSON line of ``/api/generate`` (or the single non-streamed object)."""

    response: str
    done: bool
    done_reason: str = ""
    metrics: Metrics | None = None
    #: With ``logprobs``: one entry per token of ``response`` (all of them when not streamed).
    logprobs: tuple[Logprob, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenerateChunk:
        done = data.get("done") is True
        return cls(
            response=_str(data.get("response")),
            done=done,
            done_reason=_str(data.get("done_reason")),
            metrics=Metrics.from_json(data) if done else None,
            logprobs=_logprobs(data.get("logprobs")),
        )


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One NDJSON line of ``/api/chat``."""

    message: ChatMessage
    done: bool
    done_reason: str = ""
    metrics: Metrics | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatChunk:
        msg = data.get("message") if isinstance(data.get("message"), dict) else {}
        done = data.get("done") is True
        return cls(
            message=ChatMessage(_str(msg.get("role"), "assistant"), _str(msg.get("content"))),
            done=done,
            done_reason=_str(data.get("done_reason")),
            metrics=Metrics.from_json(data) if done else None,
        )


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    """The ``options`` we send. ``None`` fields are left out so Ollama's defaults apply.

    ``num_ctx`` is a *runner* option: changing it between requests makes Ollama reload the
    model, so callers size it once per model and keep it constant.
    """

    num_predict: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    num_ctx: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if out.get("num_ctx", 1) <= 0:
            del out["num_ctx"]  # Ollama would take it as is; its default is the safe choice
        if "stop" in out:
            out["stop"] = list(out["stop"])
        return out


# -- the store's records, from Ollama's JSON ----------------------------------------------


def model_details(data: Any) -> ModelDetails:
    data = data if isinstance(data, dict) else {}
    return ModelDetails(
        family=_str(data.get("family")),
        parameter_size=_str(data.get("parameter_size")),
        quantization_level=_str(data.get("quantization_level")),
        format=_str(data.get("format")),
    )


def model_info(data: dict[str, Any]) -> ModelInfo:
    """An entry of ``GET /api/tags``."""
    return ModelInfo(
        name=_str(data.get("name")) or _str(data.get("model")),
        size=_count(data.get("size")) or 0,
        digest=_str(data.get("digest")),
        modified_at=_str(data.get("modified_at")),
        details=model_details(data.get("details")),
    )


def show_info(data: dict[str, Any]) -> ShowInfo:
    """``POST /api/show``'s answer (the context length is ``<architecture>.context_length``)."""
    info = data.get("model_info") if isinstance(data.get("model_info"), dict) else {}
    arch = _str(info.get("general.architecture"))
    caps = data.get("capabilities")
    return ShowInfo(
        template=_str(data.get("template")),
        parameters=_str(data.get("parameters")),
        capabilities=tuple(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else (),
        details=model_details(data.get("details")),
        context_length=_positive(info.get(f"{arch}.context_length")) if arch else None,
        architecture=arch,
        model_info={k: v for k, v in info.items() if not isinstance(v, list)},
        vocab_size=_positive(info.get(f"{arch}.vocab_size")) or _vocab(data.get("tensors")),
    )


def _vocab(tensors: Any) -> int | None:
    """The vocabulary from ``token_embd.weight``'s shape ``[embedding, vocabulary]``."""
    for tensor in tensors if isinstance(tensors, list) else ():
        if isinstance(tensor, dict) and tensor.get("name") == "token_embd.weight":
            shape = tensor.get("shape")
            return _positive(shape[1]) if isinstance(shape, list) and len(shape) > 1 else None
    return None


def running_model(data: dict[str, Any]) -> RunningModel:
    """An entry of ``GET /api/ps``."""
    return RunningModel(
        name=_str(data.get("name")) or _str(data.get("model")),
        size=_count(data.get("size")) or 0,
        size_vram=_count(data.get("size_vram")) or 0,
        expires_at=_str(data.get("expires_at")),
        context_length=_positive(data.get("context_length")),
        details=model_details(data.get("details")),
    )


def pull_progress(data: dict[str, Any]) -> PullProgress:
    """One NDJSON line of ``/api/pull``."""
    return PullProgress(
        status=_str(data.get("status")),
        digest=_str(data.get("digest")),
        total=_count(data.get("total")),
        completed=_count(data.get("completed")),
    )
