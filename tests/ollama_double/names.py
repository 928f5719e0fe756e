"""Ollama model names: ``[host/][namespace/]model[:tag]`` (``types/model/name.go``).

Ollama fills in ``registry.ollama.ai``, ``library`` and ``latest``, compares names
case-insensitively, and shows the shortest form (``tinyllama:latest``). Which form an error
message uses differs per endpoint, so both the parsed and the as-sent name are kept around.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_LIMITS = {"host": 350, "namespace": 80, "model": 80, "tag": 80}


def _valid_part(kind: str, part: str) -> bool:
    """``isValidPart``: [A-Za-z0-9_] first, then also ``-`` and ``.`` (not in a namespace),
    and ``:`` only in a host."""
    if not 0 < len(part) <= _LIMITS[kind]:
        return False
    for i, c in enumerate(part):
        if c.isascii() and (c.isalnum() or c == "_"):
            continue
        if i == 0:
            return False
        if c == "-" or (c == "." and kind != "namespace") or (c == ":" and kind == "host"):
            continue
        return False
    return True


@dataclass(frozen=True)
class ModelName:
    host: str
    namespace: str
    model: str
    tag: str

    @property
    def short(self) -> str:
        """``DisplayShortest``: ``model:tag`` for library models."""
        if self.host.lower() == DEFAULT_HOST and self.namespace.lower() == DEFAULT_NAMESPACE:
            return f"{self.model}:{self.tag}"
        if self.host.lower() == DEFAULT_HOST:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return self.full

    @property
    def full(self) -> str:
        """``registry.ollama.ai/library/tinyllama:latest``: the name in capability errors."""
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def key(self) -> str:
        """Identity for lookups: Ollama matches names case-insensitively."""
        return self.full.lower()


def parse_name(text: str) -> ModelName | None:
    """Parse like ``model.ParseName`` + ``IsValid``; ``None`` for an invalid name."""
    s = text.split("@", 1)[0]
    host, namespace, tag = DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_TAG
    slash = s.rfind("/")
    colon = s.rfind(":")
    if colon > slash:
        s, tag = s[:colon], s[colon + 1 :]
    parts = s.split("/")
    if len(parts) > 3:
        return None
    model = parts[-1]
    if len(parts) >= 2:
        namespace = parts[-2]
    if len(parts) == 3:
        host = parts[0]
    name = ModelName(host, namespace, model, tag)
    ok = all(
        _valid_part(kind, value)
        for kind, value in (
            ("host", host),
            ("namespace", namespace),
            ("model", model),
            ("tag", tag),
        )
    )
    return name if ok else None
