"""Qwen2.5-Coder, a real fill-in-the-middle code model, behind the double as Ollama serves it.

What holds on any machine, whatever the float rounding of its CPU: Ollama's facts for the
tag (``/api/show``), that our server picks Qwen's FIM layout from them, that the FIM markers
of our raw prompts and of Ollama's template reach the model as its three special tokens (the
real vocabulary, ids 151659/151661/151660) and look-alikes do not, and that a FIM answer
ends without special text; without a suffix the instruct template's ChatML branch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ollama_lsp.completion.templates import QWEN, select_template
from tests.ollama_double import OllamaDouble
from tests.ollama_double.gguf_meta import read_meta
from tests.ollama_double.real_catalogue import QWEN_SYSTEM
from tests.ollama_double.templates import QWEN25_CODER

from . import models
from .conftest import model_fixture

real_model = model_fixture(models.code_models())

FIM_IDS = models.QWEN_FIM_IDS
IM_START = 151644
"""``<|im_start|>`` in the same vocabulary."""
OLLAMA_FACTS = {
    "qwen2.5-coder:0.5b": ("494.03M", 24, 896),
    "qwen2.5-coder:1.5b": ("1.5B", 28, 1536),
}
"""parameter_size as ``ollama show`` prints it; block count and embedding width of the GGUF."""
PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\n\nprint(add(1, 2))\n"
SPECIAL_TEXT = ("<|endoftext|>", "<|im_end|>", "<|fim_pad|>", "<|file_sep|>", "<|fim_middle|>")


@pytest.fixture(scope="module")
def http(real_double: OllamaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=real_double.url, timeout=120) as client:
        yield client


def generate(http: httpx.Client, **body: Any) -> tuple[dict, str]:
    """Stream one generate request: its ``done`` line and the text."""
    with http.stream("POST", "/api/generate", json=body) as response:
        assert response.status_code == 200, response.read()
        lines = [json.loads(line) for line in response.iter_lines() if line]
    return lines[-1], "".join(line.get("response", "") for line in lines)


def test_show_reports_ollamas_facts_and_the_gguf(real_model: str, http: httpx.Client) -> None:
    shown = http.post("/api/show", json={"model": real_model}).json()
    assert shown["capabilities"] == ["completion", "tools", "insert"]
    assert shown["template"] == QWEN25_CODER.text
    assert shown["template"].startswith(
        "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
        "{{- else if .Messages }}"
    )
    assert shown["system"].startswith("You are Qwen") and "parameters" not in shown
    size, layers, width = OLLAMA_FACTS[real_model]
    assert shown["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen2",
        "families": ["qwen2"],
        "parameter_size": size,
        "quantization_level": "Q4_K_M",
    }
    info = shown["model_info"]
    meta = read_meta(models.weights_path(real_model))
    assert info["general.architecture"] == "qwen2" and info["general.file_type"] == 15
    assert (info["qwen2.block_count"], info["qwen2.embedding_length"]) == (layers, width)
    assert info["qwen2.context_length"] == 32768
    assert info["general.parameter_count"] == meta.parameter_count
    assert info["tokenizer.ggml.add_bos_token"] is False and info["tokenizer.ggml.tokens"] == []
    listed = {m["name"]: m for m in http.get("/api/tags").json()["models"]}
    blobs = listed[real_model]["size"] - models.weights_path(real_model).stat().st_size
    assert 0 < blobs < 16_384  # the model blob is the GGUF; the template, system ... are small
    # our server chooses Qwen's raw FIM layout from the name, and from the template alone
    assert select_template(real_model) is QWEN
    assert select_template("my-coder:latest", template_text=shown["template"]) is QWEN


def test_fim_markers_become_the_three_special_tokens(
    real_model: str, real_double: OllamaDouble, http: httpx.Client
) -> None:
    options = {"num_predict": 1, "temperature": 0}
    prompt = QWEN.build(PREFIX, SUFFIX)  # the raw prompt our server sends
    assert prompt.raw and prompt.suffix is None
    generate(http, model=real_model, prompt=prompt.prompt, raw=True, options=options)
    raw = real_double.requests_to("/api/generate")[-1].prompt_token_ids
    for text, token in FIM_IDS.items():
        assert raw.count(token) == 1, (text, raw)
    assert raw[0] == FIM_IDS["<|fim_prefix|>"] and raw[-1] == FIM_IDS["<|fim_middle|>"]
    assert raw.index(FIM_IDS["<|fim_suffix|>"]) > 1
    # Ollama's own template, with prompt and suffix, renders the same tokens
    generate(http, model=real_model, prompt=PREFIX, suffix=SUFFIX, options=options)
    templated = real_double.requests_to("/api/generate")[-1]
    assert templated.rendered_prompt == prompt.prompt and templated.prompt_token_ids == raw
    # the marker's characters with a zero-width space are text, not the token
    lookalike = prompt.prompt.replace("<|fim_prefix|>", "<\u200b|fim_prefix|>")
    generate(http, model=real_model, prompt=lookalike, raw=True, options=options)
    ids = real_double.requests_to("/api/generate")[-1].prompt_token_ids
    assert FIM_IDS["<|fim_prefix|>"] not in ids and FIM_IDS["<|fim_suffix|>"] in ids


def test_a_fim_answer_ends_without_special_text(real_model: str, http: httpx.Client) -> None:
    started = time.perf_counter()
    done, text = generate(
        http,
        model=real_model,
        prompt=QWEN.build(PREFIX, SUFFIX).prompt,
        raw=True,
        options={"num_predict": 48, "temperature": 0, "stop": list(QWEN.stop)},
    )
    elapsed = time.perf_counter() - started
    assert done["done_reason"] in ("stop", "length") and done["eval_count"] <= 48, done
    assert not any(special in text for special in SPECIAL_TEXT), text
    assert elapsed < 120, elapsed  # ~20 prompt tokens and 48 generated: seconds on one thread


def test_without_a_suffix_the_instruct_template_speaks_chatml(
    real_model: str, real_double: OllamaDouble, http: httpx.Client
) -> None:
    """No suffix: Ollama's template takes its ChatML branch, with the tag's system prompt."""
    options = {"num_predict": 2, "temperature": 0}
    generate(http, model=real_model, prompt="Hi", options=options)
    rendered = real_double.requests_to("/api/generate")[-1].rendered_prompt
    assert rendered == (
        f"<|im_start|>system\n{QWEN_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    reply = http.post(
        "/api/chat",
        json={
            "model": real_model,
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": False,
            "options": options,
        },
    ).json()
    assert reply["done"] and reply["message"]["role"] == "assistant"
    chat = real_double.requests_to("/api/chat")[-1]
    assert chat.rendered_prompt == rendered
    assert chat.prompt_token_ids.count(IM_START) == 3  # one special token per turn
