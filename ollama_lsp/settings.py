"""One typed settings tree: defaults, validation, and camelCase wire names mapped once.

Editors deliver settings in several shapes — ``initializationOptions`` flat or as
``{"ollama": {...}}``, ``workspace/configuration`` for section ``ollama``, and
``didChangeConfiguration`` with ``{"ollama": {...}}`` — so ``parse`` accepts any of them.
A bad value never takes the server down and never silently changes behaviour: that key
keeps its previous value and its dotted name is reported so the server can tell the user
once. Unknown keys are ignored (VS Code sends its own extras, such as the server path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from .context.records import ContextSettings
from .ollama.host import HostError, parse_endpoint, redact_userinfo

DEFAULT_MODEL = "codellama:7b-code"
DEFAULT_CHAT_MODEL = "tinyllama:1.1b-chat-v1-q4_0"

Multiline = Literal["auto", "always", "never"]
KeepAlive = str | int | float

_T = TypeVar("_T")
Table = dict[str, tuple[str, Callable[[Any], Any]]]

_DURATION = re.compile(r"-?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+")


@dataclass(frozen=True, slots=True)
class CompletionSettings:
    debounce_ms: int = 150
    #: Wait longer than ``debounce_ms`` while the user is visibly mid-word (debounce.py).
    adaptive_debounce: bool = False
    max_debounce_ms: int = 300
    max_tokens: int = 128
    temperature: float = 0.2
    multiline: Multiline = "auto"
    prefix_lines: int = 200
    suffix_lines: int = 60
    #: Upper bound for ``num_ctx``; the model's own context length may be smaller.
    context_tokens: int = 4096
    timeout_ms: int = 10_000
    #: How long Ollama may spend evaluating new prompt tokens for one suggestion; the
    #: windows shrink to fit, using the speed Ollama reports (completion/budget.py).
    prompt_latency_ms: int = 1000
    #: Evaluate the big window at the cursor while the user pauses, so it is cached.
    prefill: bool = True
    #: After a suggestion is shown, generate the next one as if it were accepted (idle only).
    speculate: bool = True
    #: Alternatives offered on an explicit invoke (editors cycle through them). 1 by
    #: default: the answer carries all of them, so on a CPU each one more adds its whole
    #: generation time to the wait; raise it on a GPU.
    candidates: int = 1


@dataclass(frozen=True, slots=True)
class CacheSettings:
    max_entries: int = 512
    ttl_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class Settings:
    #: Kept out of ``repr``: it may hold a password (``http://user:pass@host``).
    host: str | None = field(default=None, repr=False)
    model: str = DEFAULT_MODEL
    chat_model: str = DEFAULT_CHAT_MODEL
    keep_alive: KeepAlive = "30m"
    unload_previous: bool = True
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    context: ContextSettings = field(default_factory=ContextSettings)


# -- validators: return the value to store, or raise ValueError with what is wanted ----------


def _int_between(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"a whole number from {lo} to {hi}")
        if not lo <= value <= hi:
            raise ValueError(f"a whole number from {lo} to {hi}")
        return int(value)

    return check


def _number_between(lo: float, hi: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return float(value)

    return check


def _model_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise ValueError("a model name such as codellama:7b-code")
    return value.strip()


def _host(value: Any) -> str | None:
    """Refuse here, not when dialling, so that a bad host never half-applies new settings."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("a host such as http://127.0.0.1:11434")
    try:
        parse_endpoint(value)
    except HostError as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


def _keep_alive(value: Any) -> KeepAlive:
    if isinstance(value, bool):
        raise ValueError('a duration such as "30m" or a number of seconds (-1 = forever)')
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and (_DURATION.fullmatch(value.strip()) or value.strip() == "0"):
        return value.strip()
    raise ValueError('a duration such as "30m" or a number of seconds (-1 = forever)')


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _multiline(value: Any) -> Multiline:
    if value is True:
        return "always"
    if value is False:
        return "never"
    if value in ("auto", "always", "never"):
        return value
    raise ValueError('"auto", "always" or "never"')


_TOP: Table = {
    "host": ("host", _host),
    "model": ("model", _model_name),
    "chatModel": ("chat_model", _model_name),
    "keepAlive": ("keep_alive", _keep_alive),
    "unloadPrevious": ("unload_previous", _bool),
}
_COMPLETION: Table = {
    "debounceMs": ("debounce_ms", _int_between(0, 5000)),
    "adaptiveDebounce": ("adaptive_debounce", _bool),
    "maxDebounceMs": ("max_debounce_ms", _int_between(0, 5000)),
    "maxTokens": ("max_tokens", _int_between(1, 4096)),
    "temperature": ("temperature", _number_between(0.0, 2.0)),
    "multiline": ("multiline", _multiline),
    "prefixLines": ("prefix_lines", _int_between(0, 10_000)),
    "suffixLines": ("suffix_lines", _int_between(0, 10_000)),
    "contextTokens": ("context_tokens", _int_between(256, 262_144)),
    "timeoutMs": ("timeout_ms", _int_between(100, 600_000)),
    "promptLatencyMs": ("prompt_latency_ms", _int_between(50, 600_000)),
    "prefill": ("prefill", _bool),
    "speculate": ("speculate", _bool),
    "candidates": ("candidates", _int_between(1, 8)),
}
_CACHE: Table = {
    "maxEntries": ("max_entries", _int_between(0, 100_000)),
    "ttlSeconds": ("ttl_seconds", _number_between(0.0, 86_400.0)),
}


_CONTEXT: Table = {
    "enabled": ("enabled", _bool),
    "maxTokens": ("max_tokens", _int_between(0, 32_768)),
    "definitions": ("definitions", _bool),
    "similar": ("similar", _bool),
    "recentEdits": ("recent_edits", _bool),
    "maxSnippets": ("max_snippets", _int_between(0, 64)),
    "similarWindowLines": ("similar_window_lines", _int_between(4, 400)),
    "maxEdits": ("max_edits", _int_between(0, 256)),
}


@dataclass(frozen=True, slots=True)
class ParseResult:
    settings: Settings
    #: ``"ollama.completion.maxTokens: expected a whole number from 1 to 4096"``, one per bad key.
    errors: tuple[str, ...] = ()


def section(raw: Any) -> Mapping[str, Any]:
    """The ``ollama`` section of any settings shape (flat, nested, or absent)."""
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("ollama")
    return inner if isinstance(inner, Mapping) else raw


def parse(raw: Any, base: Settings | None = None) -> ParseResult:
    """Overlay the settings in ``raw`` on ``base`` (default: the defaults)."""
    base = base or Settings()
    values = section(raw)
    errors: list[str] = []
    top = _apply(values, _TOP, base, "ollama", errors)
    completion = _apply(
        _sub(values, "completion", errors),
        _COMPLETION,
        base.completion,
        "ollama.completion",
        errors,
    )
    cache = _apply(_sub(values, "cache", errors), _CACHE, base.cache, "ollama.cache", errors)
    context = _apply(
        _sub(values, "context", errors), _CONTEXT, base.context, "ollama.context", errors
    )
    merged = replace(top, completion=completion, cache=cache, context=context)
    return ParseResult(merged, tuple(errors))


def _sub(values: Mapping[str, Any], key: str, errors: list[str]) -> Mapping[str, Any]:
    sub = values.get(key)
    if sub is None:
        return {}
    if not isinstance(sub, Mapping):
        errors.append(f"ollama.{key}: expected an object")
        return {}
    return sub


def _apply(values: Mapping[str, Any], table: Table, base: _T, prefix: str, errors: list[str]) -> _T:
    changes: dict[str, Any] = {}
    for wire, (name, check) in table.items():
        if wire not in values:
            continue
        try:
            changes[name] = check(values[wire])
        except ValueError as exc:
            errors.append(f"{prefix}.{wire}: expected {exc}, got {_shown(values[wire])!r}")
    return replace(base, **changes) if changes else base  # type: ignore[type-var]


def _shown(value: Any) -> Any:
    """A bad value as it may be shown to the user: never a password from a host URL."""
    return redact_userinfo(value) if isinstance(value, str) else value


def to_wire(settings: Settings) -> dict[str, Any]:
    """Settings back in their camelCase wire shape (for ``ollama.status`` and docs)."""
    out: dict[str, Any] = {}
    for wire, (name, _) in _TOP.items():
        out[wire] = getattr(settings, name)
    out["completion"] = {w: getattr(settings.completion, n) for w, (n, _) in _COMPLETION.items()}
    out["cache"] = {w: getattr(settings.cache, n) for w, (n, _) in _CACHE.items()}
    out["context"] = {w: getattr(settings.context, n) for w, (n, _) in _CONTEXT.items()}
    return out
