"""One typed settings tree: each key is one dataclass field with its default, check and doc.

Editors deliver settings in several shapes (``initializationOptions`` flat or as
``{"ollama": {...}}``, ``workspace/configuration`` for section ``ollama``,
``didChangeConfiguration`` with ``{"ollama": {...}}``), so ``parse`` accepts any of them. A bad
value never takes the server down nor silently changes behaviour: that key keeps its previous
value and its dotted name is reported, so the server can tell the user once. Unknown keys are
ignored (VS Code sends its own extras, such as the server path).

A key is written once, ``name: type = key(default, doc, check)``; its camelCase wire name comes
from the attribute (``chat_model`` -> ``chatModel``), and a field whose default is a settings
dataclass is a section, so ``parse``, ``to_wire`` and ``describe`` walk the tree. A check returns
the value to store or raises ``ValueError`` saying what is wanted; ``(lo, hi)`` means a number in
that range (whole if the default is an ``int``); a ``bool`` needs none. Plain
``field(metadata={"doc": ..., "check": ...})`` works too: ``ContextSettings`` needs no import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import Field, dataclass, field, fields, is_dataclass, replace
from typing import Any

from . import checks
from .checks import Api, Headers, Invalid, KeepAlive, Multiline
from .context.records import ContextSettings
from .http.endpoint import redact_userinfo

DEFAULT_MODEL = "codellama:7b-code"
DEFAULT_CHAT_MODEL = "tinyllama:1.1b-chat-v1-q4_0"

Check = Callable[[Any], Any] | tuple[float, float] | None


def key(
    default: Any,
    doc: str,
    check: Check = None,
    *,
    wire: str | None = None,
    show: Callable[[Any], Any] | None = None,
    secret: bool = False,
) -> Any:
    """One setting: its default, a one-line doc, and the check its values must pass.

    ``wire`` names a key whose wire name is not its camelCase attribute, ``show`` gives the
    wire form of a value (for ``to_wire``), and ``secret`` keeps the value out of ``repr``.
    """
    meta = {"doc": doc, "check": check, "wire": wire, "show": show}
    return field(default=default, repr=not secret, metadata=meta)


def nested(cls: type, doc: str) -> Any:
    """A nested settings section: a field whose default is a settings dataclass."""
    return field(default_factory=cls, metadata={"doc": doc})


# -- the tree (key() returns a dataclasses.field, so RUF009 does not apply) -----------------
# ruff: noqa: RUF009


@dataclass(frozen=True, slots=True)
class CompletionSettings:
    debounce_ms: int = key(150, "Wait (ms) after a keystroke before asking the model.", (0, 5000))
    adaptive_debounce: bool = key(False, "Wait longer (up to maxDebounceMs) while mid-word.")
    max_debounce_ms: int = key(300, "The longest adaptive wait (ms) after a keystroke.", (0, 5000))
    max_tokens: int = key(128, "Most tokens one suggestion may generate.", (1, 4096))
    temperature: float = key(0.2, "Sampling temperature.", (0.0, 2.0))
    multiline: Multiline = key("auto", "When a suggestion may span lines.", checks.multiline)
    fim: str = key(
        "auto",
        "The model's fill-in-the-middle format when its name does not tell it (an "
        'OpenAI-compatible server reports no template): "codellama", "qwen2.5-coder", ...',
        checks.fim,
    )
    prefix_lines: int = key(200, "Lines before the cursor in the prompt.", (0, 10_000))
    suffix_lines: int = key(60, "Lines after the cursor in the prompt.", (0, 10_000))
    context_tokens: int = key(4096, "Most num_ctx (the model's may be less).", (256, 262_144))
    timeout_ms: int = key(10_000, "A completion never takes longer (ms).", (100, 600_000))
    #: The windows shrink to fit, using the speed Ollama reports (completion/budget.py).
    prompt_latency_ms: int = key(1000, "Most time (ms) for new prompt tokens.", (50, 600_000))
    prefill: bool = key(True, "Evaluate the window at the cursor while you pause.")
    speculate: bool = key(True, "After a suggestion, prepare the next one (idle only).")
    #: 1 by default: the answer carries all of them, so on a CPU each one more adds its whole
    #: generation time to the wait; raise it on a GPU.
    candidates: int = key(1, "Alternatives offered on an explicit invoke.", (1, 8))


@dataclass(frozen=True, slots=True)
class CacheSettings:
    max_entries: int = key(512, "Cached suggestions; 0 turns off every reuse.", (0, 100_000))
    ttl_seconds: float = key(600.0, "How long (s) a cached suggestion is valid.", (0.0, 86_400.0))


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: str | None = key(None, "CA certificates (PEM) for https hosts.", checks.ca_file)


@dataclass(frozen=True, slots=True)
class Settings:
    #: Kept out of ``repr``: a host may hold a password (``http://user:pass@host``).
    hosts: tuple[str, ...] = key(
        (),
        "Where Ollama listens: a URL or a list of them.",
        checks.hosts,
        wire="host",
        show=checks.show_hosts,
        secret=True,
    )
    api: Api = key("ollama", 'The API: "ollama", or "openai" (/v1/completions).', checks.api)
    slot: int = key(
        0, "llama-server: the slot our prompts stay in (id_slot); -1: the server picks.", (-1, 1023)
    )
    spare_slot: int = key(
        1,
        "llama-server: a second slot where pauses prefill a wider window; -1: none.",
        (-1, 1023),
    )
    #: Kept out of ``repr`` and stored unexpanded: ``${env:NAME}`` is filled in when sending.
    headers: Headers = key(
        (), "HTTP headers for every request.", checks.headers, show=checks.show_headers, secret=True
    )
    model: str = key(DEFAULT_MODEL, "The completion model.", checks.model_name)
    chat_model: str = key(DEFAULT_CHAT_MODEL, "The model ollama.chat uses.", checks.model_name)
    keep_alive: KeepAlive = key("30m", "How long Ollama keeps the model loaded.", checks.keep_alive)
    unload_previous: bool = key(True, "Free the previous model's memory on a switch.")
    completion: CompletionSettings = nested(CompletionSettings, "How suggestions are made.")
    cache: CacheSettings = nested(CacheSettings, "How suggestions are reused.")
    context: ContextSettings = nested(ContextSettings, "What of the workspace goes in prompts.")
    tls: TlsSettings = nested(TlsSettings, "How https hosts are trusted.")

    @property
    def host(self) -> str | None:
        """The first host, for code that dials one (``None``: $OLLAMA_HOST or the default)."""
        return self.hosts[0] if self.hosts else None


@dataclass(frozen=True, slots=True)
class ParseResult:
    settings: Settings
    #: ``"ollama.completion.maxTokens: expected a whole number from 1 to 4096"``, one per bad key.
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyDoc:
    """One key as documentation and editor manifests show it."""

    #: dotted wire name, as in error messages: ``ollama.completion.maxTokens``
    name: str
    #: the default in its wire form (``null`` host, ``{}`` headers)
    default: Any
    doc: str


# -- walking the tree -----------------------------------------------------------------------


def section(raw: Any) -> Mapping[str, Any]:
    """The ``ollama`` section of any settings shape (flat, nested, or absent)."""
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("ollama")
    return inner if isinstance(inner, Mapping) else raw


def parse(raw: Any, base: Settings | None = None) -> ParseResult:
    """Overlay the settings in ``raw`` on ``base`` (default: the defaults)."""
    errors: list[str] = []
    merged = _overlay(section(raw), base or Settings(), "ollama", errors)
    return ParseResult(merged, tuple(errors))


def to_wire(settings: Settings) -> dict[str, Any]:
    """Settings in their camelCase wire shape, secrets masked (for ``ollama.status``, docs)."""
    return _wire_values(settings)


def describe() -> list[KeyDoc]:
    """Every key with its default and doc, so docs and editor manifests check against one list."""
    return [KeyDoc(name, _shown(f, f.default), f.metadata["doc"]) for name, f in _keys()]


def _overlay(values: Mapping[str, Any], base: Any, prefix: str, errors: list[str]) -> Any:
    changes: dict[str, Any] = {}
    for f in fields(base):
        wire = _wire_name(f)
        if wire not in values:
            continue
        value, name = values[wire], f"{prefix}.{wire}"
        if _is_section(f):
            if value is None:
                continue
            if not isinstance(value, Mapping):
                errors.append(f"{name}: expected an object")
                continue
            changes[f.name] = _overlay(value, getattr(base, f.name), name, errors)
            continue
        try:
            changes[f.name] = _checker(f)(value)
        except Invalid as exc:
            errors.append(f"{name}: expected {exc}, got {exc.got or repr(_redacted(value))}")
        except ValueError as exc:
            errors.append(f"{name}: expected {exc}, got {_redacted(value)!r}")
    return replace(base, **changes) if changes else base


def _wire_values(node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        out[_wire_name(f)] = _wire_values(value) if _is_section(f) else _shown(f, value)
    return out


def _keys(node: Any = Settings, prefix: str = "ollama") -> Iterator[tuple[str, Field]]:
    for f in fields(node):
        name = f"{prefix}.{_wire_name(f)}"
        if _is_section(f):
            yield from _keys(f.default_factory, name)
        else:
            yield name, f


def _shown(f: Field, value: Any) -> Any:
    show = f.metadata.get("show")
    return show(value) if show else value


def _is_section(f: Field) -> bool:
    return isinstance(f.default_factory, type) and is_dataclass(f.default_factory)


def _wire_name(f: Field) -> str:
    if f.metadata.get("wire"):
        return f.metadata["wire"]
    first, *rest = f.name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _checker(f: Field) -> Callable[[Any], Any]:
    """The check of a key (see the module docstring for the forms it may take)."""
    check = f.metadata.get("check")
    if callable(check):
        return check
    if isinstance(check, tuple):
        return checks.between(*check, whole=type(f.default) is int)
    if type(f.default) is bool:
        return checks.flag
    raise TypeError(f"setting {f.name} has no check: give key(...) one")


def _redacted(value: Any) -> Any:
    """A bad value as it may be shown to the user: never a password from a host URL."""
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return redact_userinfo(value) if isinstance(value, str) else value


for _name, _field in _keys():  # a key without a check fails here, at import
    _checker(_field)
