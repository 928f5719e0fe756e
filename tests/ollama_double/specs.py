"""What the double knows about a model: its blobs, architecture, template and parameters.

``catalogue.py`` lists the models; ``real_catalogue.py`` adds the ones with real weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .templates import TemplateFamily


def synthetic_digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass(frozen=True)
class Layer:
    digest: str
    """``sha256:<64 hex>``"""
    size: int
    media_type: str


@dataclass(frozen=True)
class Architecture:
    name: str
    context_length: int
    block_count: int
    embedding_length: int
    head_count: int
    head_count_kv: int
    feed_forward_length: int
    vocab_size: int
    rope_freq_base: float

    @property
    def head_dim(self) -> int:
        return self.embedding_length // self.head_count

    def kv_bytes(self, num_ctx: int) -> int:
        """f16 KV cache (§5.4): 2 (K and V) x layers x kv heads x head dim x ctx x 2 bytes."""
        return 2 * self.block_count * self.head_count_kv * self.head_dim * num_ctx * 2


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    families: tuple[str, ...] | None
    parameter_size: str
    parameter_count: int
    quantization: str
    file_type: int
    arch: Architecture
    template: TemplateFamily
    layers: tuple[Layer, ...]
    digest: str
    system: str = ""
    parameters: tuple[tuple[str, Any], ...] = ()
    license: str = ""
    modified_at_ns: int = 0
    """When the default install was "pulled" (a fixed past time, newest first in /api/tags)."""
    weights: str | None = None
    """Real weights exist for it (``tests.real.models.weights_path(weights)``): a real
    engine (``engines.llama``) can run it."""

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def capabilities(self) -> list[str]:
        """In Ollama's order (``server/images.go``): completion, tools, insert."""
        tools = ["tools"] if self.template.supports_tools else []
        return ["completion", *tools, *(["insert"] if self.template.supports_insert else [])]

    def parameter_map(self) -> dict[str, Any]:
        """PARAMETER lines as Ollama's options map (repeated keys such as ``stop`` become lists)."""
        out: dict[str, Any] = {}
        for key, value in self.parameters:
            if key == "stop":
                out.setdefault("stop", []).append(value)
            else:
                out[key] = value
        return out

    def details(self) -> dict[str, Any]:
        """``ModelDetails`` in Go field order."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": list(self.families) if self.families is not None else None,
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization,
        }


LLAMA2_LICENSE = (
    "LLAMA 2 COMMUNITY LICENSE AGREEMENT\nLlama 2 Version Release Date: July 18, 2023\n..."
)
APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n..."
BIGCODE_LICENSE = "BigCode Open RAIL-M v1 License Agreement\n..."
DEEPSEEK_LICENSE = "DEEPSEEK LICENSE AGREEMENT\nVersion 1.0, 23 October 2023\n..."

_FILE_TYPES = {"F32": 0, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q4_K_M": 15}
DAY_NS = 86_400 * 1_000_000_000
BASE_NS = 1_746_889_608_639_712_648  # 2025-05-10T15:06:48.639712648Z


def _layers(
    seed: str, model_bytes: int, template: TemplateFamily, *, system: str, params: str, lic: str
) -> tuple[Layer, ...]:
    """Model, template, system, params, license blobs, then the config (Ollama's pull order)."""

    def layer(kind: str, size: int, media: str) -> Layer:
        return Layer("sha256:" + synthetic_digest(f"{seed}/{kind}"), size, media)

    out = [layer("model", model_bytes, "application/vnd.ollama.image.model")]
    out.append(layer("template", len(template.text), "application/vnd.ollama.image.template"))
    if system:
        out.append(layer("system", len(system), "application/vnd.ollama.image.system"))
    if params:
        out.append(layer("params", len(params), "application/vnd.ollama.image.params"))
    if lic:
        out.append(layer("license", len(lic), "application/vnd.ollama.image.license"))
    out.append(layer("config", 487, "application/vnd.docker.container.image.v1+json"))
    return tuple(out)


def code_model(
    name: str,
    arch: Architecture,
    model_bytes: int,
    *,
    family: str,
    families: tuple[str, ...] | None,
    parameter_size: str,
    parameter_count: int,
    quantization: str,
    template: TemplateFamily,
    license: str,
    parameters: tuple[tuple[str, Any], ...] = (),
    digest_prefix: str = "",
    age_days: int = 0,
    system: str = "",
) -> ModelSpec:
    params_json = "{" + ",".join(f'"{k}":{v!r}' for k, v in parameters) + "}" if parameters else ""
    digest = synthetic_digest(f"manifest/{name}")
    return ModelSpec(
        name=name,
        family=family,
        families=families,
        parameter_size=parameter_size,
        parameter_count=parameter_count,
        quantization=quantization,
        file_type=_FILE_TYPES[quantization],
        arch=arch,
        template=template,
        layers=_layers(name, model_bytes, template, system=system, params=params_json, lic=license),
        digest=(digest_prefix + digest)[:64],
        system=system,
        parameters=parameters,
        license=license,
        modified_at_ns=BASE_NS - age_days * DAY_NS,
    )
