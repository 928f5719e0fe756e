"""``top_logprobs`` from real weights: the llama engine's alternatives, through the double's
HTTP surface and our provider, as guided token healing asks for them."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ollama_lsp.completion.healing import agreeing_token
from ollama_lsp.ollama.client import OllamaClient
from ollama_lsp.ollama.provider import OllamaProvider
from ollama_lsp.provider import CodeCompletionRequest
from tests.ollama_double import OllamaDouble
from tests.ollama_double.engines.llama_logprobs import token_piece

from . import models
from .conftest import need

HEALED = "def fibonacci(n):\n    if n <= 1:\n        "
"""``...\\n        retur`` with the partial word healed away: the model must spell it."""
GREEDY = {"temperature": 0, "repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def http(real_double: OllamaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=real_double.url, timeout=60) as client:
        yield client


def stream(http: httpx.Client, **body: Any) -> list[dict]:
    body.setdefault("raw", True)
    with http.stream("POST", "/api/generate", json=body) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line) for line in response.iter_lines()]


async def test_healing_step_offers_the_partial_word(
    real_model: str, real_double: OllamaDouble
) -> None:
    request = CodeCompletionRequest(
        model=real_model, prompt=HEALED, raw=True, max_tokens=1, temperature=0.0,
        top_logprobs=20,
    )  # fmt: skip
    client = OllamaClient(real_double.host)
    try:
        chunks = [c async for c in OllamaProvider(client).complete_code(request)]
    finally:
        await client.aclose()
    alternatives = chunks[0].alternatives
    assert 20 <= len(alternatives) <= 21, alternatives  # the sampled one may be added
    assert any(t.lstrip(" ").startswith("ret") for t in alternatives[:5]), alternatives
    assert agreeing_token("retur", alternatives, lenient=True) in ("return", " return")


def test_greedy_samples_the_most_probable(
    real_model: str, real_double: OllamaDouble, http: httpx.Client
) -> None:
    lines = stream(
        http, model=real_model, prompt=HEALED, logprobs=True, top_logprobs=5,
        options={"num_predict": 6, **GREEDY},
    )  # fmt: skip
    entries = [e for line in lines for e in line.get("logprobs", [])]
    assert len(entries) == 6
    assert "".join(e["token"] for e in entries) == "".join(line["response"] for line in lines)
    for entry in entries:
        top = entry["top_logprobs"]
        assert len(top) == 5
        assert (entry["token"], entry["logprob"]) == (top[0]["token"], top[0]["logprob"])
        values = [t["logprob"] for t in top]
        assert values == sorted(values, reverse=True) and values[0] <= 0
        assert sum(math.exp(v) for v in values) <= 1 + 1e-4  # a log-softmax
        assert all(t["bytes"] == list(t["token"].encode()) for t in top if t["token"])


def test_none_unless_asked(real_model: str, real_double: OllamaDouble, http) -> None:
    options = {"num_predict": 2, **GREEDY}
    for extra in ({}, {"top_logprobs": 5}):  # top_logprobs alone is not enough
        lines = stream(http, model=real_model, prompt=HEALED, options=options, **extra)
        assert not any("logprobs" in line for line in lines)


def test_long_pieces_are_spelled_out() -> None:
    """SmolLM2 has one token for a newline and 40 spaces; llama-cpp-python 0.3.36's
    ``detokenize`` drops any piece over 32 bytes (abetlen/llama-cpp-python#2362)."""
    need("smollm2:135m")
    import llama_cpp

    path = models.weights_path("smollm2:135m")
    llm = llama_cpp.Llama(str(path), n_ctx=64, vocab_only=True, verbose=False)
    try:
        text = "\n" + " " * 40
        (token,) = llm.tokenize(text.encode(), add_bos=False, special=True)
        assert token_piece(llm._model.vocab, token) == text.encode()
        assert llm._model.detokenize([token], special=True) == b""  # the upstream bug
    finally:
        llm.close()
