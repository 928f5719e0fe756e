"""The models the double knows: the pullable "library" and the default installed set.

Names, sizes, quantisations and hyper-parameters follow the reference (§6) and the models'
GGUF metadata, so memory estimates and context windows computed from them are realistic.
TinyLlama's blob prefixes and sizes are the real ones printed by ``ollama pull tinyllama``;
other digests are synthetic but stable (sha256 of a name). The models with real weights are in
``real_catalogue.py``.
"""

from __future__ import annotations

from typing import Any

from . import templates
from .real_catalogue import real_library
from .specs import (
    APACHE_LICENSE,
    BASE_NS,
    BIGCODE_LICENSE,
    DAY_NS,
    DEEPSEEK_LICENSE,
    LLAMA2_LICENSE,
    Architecture,
    Layer,
    ModelSpec,
    code_model,
    synthetic_digest,
)

__all__ = ["DEFAULT_INSTALLED", "LIBRARY", "Architecture", "Layer", "ModelSpec", "library_spec"]

CODELLAMA_7B = Architecture("llama", 16384, 32, 4096, 32, 32, 11008, 32016, 1e6)
CODELLAMA_13B = Architecture("llama", 16384, 40, 5120, 40, 40, 13824, 32016, 1e6)
CODELLAMA_70B = Architecture("llama", 16384, 80, 8192, 64, 8, 28672, 32016, 1e6)
TINYLLAMA = Architecture("llama", 2048, 22, 2048, 32, 4, 5632, 32000, 10000.0)
QWEN25_CODER_1_5B = Architecture("qwen2", 32768, 28, 1536, 12, 2, 8960, 151936, 1e6)
STARCODER2_3B = Architecture("starcoder2", 16384, 30, 3072, 24, 2, 12288, 49152, 999999.4420358813)
DEEPSEEK_CODER_1_3B = Architecture("llama", 16384, 24, 2048, 16, 16, 5504, 32256, 100000.0)


def _codellama(name: str, arch: Architecture, size: int, quant: str, **kw: Any) -> ModelSpec:
    big = arch is CODELLAMA_13B
    return code_model(
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
        modified_at_ns=BASE_NS - 30 * DAY_NS,
    )


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
    qwen = code_model(
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
        "codellama:70b-code": code_model(
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
        "starcoder2:3b": code_model(
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
        "deepseek-coder:1.3b-base": code_model(
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
    library |= real_library()
    return {name.lower(): spec for name, spec in library.items()}


LIBRARY: dict[str, ModelSpec] = _build_library()
"""Every pullable ``model:tag`` (lower-cased) -> its spec. Aliases share one spec and digest."""

DEFAULT_INSTALLED = ("codellama:7b-code", "tinyllama:1.1b-chat-v1-q4_0", "qwen2.5-coder:1.5b-base")


def library_spec(short_name: str) -> ModelSpec | None:
    return LIBRARY.get(short_name.lower())
