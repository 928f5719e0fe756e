"""llama.cpp's own ``llama-server`` serving Qwen2.5-Coder 0.5B as its users run it (shared
slots, ``--cache-reuse 256``, ``--metrics``, 1 thread), and our OpenAI client against it.

What holds on any x86-64 machine: how llama-server tokenizes a raw FIM prompt (the FIM
strings become Qwen's special tokens), what its ``timings`` and ``/metrics`` count (token
counts, which do not depend on float rounding), the shapes it answers in. No generated text
is asserted beyond its form.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ollama_lsp.openai import ContextExceeded, ModelNotServed, OpenAIClient, OpenAIProvider
from ollama_lsp.provider import CodeCompletionRequest

from .llama_server import QWEN_05B, LlamaServer, Timings, need

#: Qwen2.5-Coder's FIM tokens: ``<|fim_prefix|>``, ``<|fim_suffix|>``, ``<|fim_middle|>``.
FIM_IDS = (151659, 151661, 151660)
CTX = 4096
FIM = "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>"


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    _, weights = need(QWEN_05B)
    with LlamaServer(weights, QWEN_05B, ctx=CTX) as running:
        yield running


@pytest.fixture
async def client(server: LlamaServer) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(server.url)
    yield c
    await c.aclose()


def complete(server: LlamaServer, prompt: str, **more: Any) -> dict[str, Any]:
    """One non-streamed ``/v1/completions`` answer, greedy."""
    body = {"model": QWEN_05B, "prompt": prompt, "max_tokens": 8, "temperature": 0.0, **more}
    request = urllib.request.Request(
        server.url + "/v1/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_fim_strings_in_a_raw_prompt_become_special_tokens(server: LlamaServer) -> None:
    ids = server.tokenize(FIM)
    assert [i for i in ids if i in FIM_IDS] == list(FIM_IDS)  # each once, in order
    answer = complete(server, FIM)
    timings = Timings.of(answer)
    assert timings is not None
    assert timings.prompt_n + timings.cache_n == len(ids)  # no BOS, nothing added around it
    assert answer["usage"]["prompt_tokens"] == len(ids)
    text = answer["choices"][0]["text"]
    assert "<|" not in text  # generation ended at an end-of-generation token, not shown


def test_a_longer_prompt_reuses_the_slot_cache_and_metrics_count_it(server: LlamaServer) -> None:
    assert server.wait_idle(60)  # /metrics counts a task when it is released
    before = server.metrics()
    prompt = "<|fim_prefix|>import os\n\n\ndef walk(top):\n    for root, dirs, files in os.walk("
    first = Timings.of(complete(server, prompt + "top):\n<|fim_suffix|><|fim_middle|>"))
    mark = server.mark()
    second = Timings.of(
        complete(server, prompt + "top):\n        print(<|fim_suffix|><|fim_middle|>")
    )
    assert server.wait_idle(60)
    after = server.metrics()
    assert first is not None and second is not None
    shared = len(server.tokenize(prompt + "top):\n"))
    assert second.cache_n >= shared - 1 and second.prompt_n < first.prompt_n
    assert server.f_keeps(after=mark), "llama-server logged no slot choice (f_keep)"
    evaluated = after["prompt_tokens_total"] - before.get("prompt_tokens_total", 0.0)
    assert evaluated == first.prompt_n + second.prompt_n
    predicted = after["tokens_predicted_total"] - before.get("tokens_predicted_total", 0.0)
    assert predicted == first.predicted_n + second.predicted_n
    assert server.busy_seconds() > 0


async def test_our_client_streams_its_answer(client: OpenAIClient, server: LlamaServer) -> None:
    chunks = [c async for c in client.complete_stream(QWEN_05B, FIM, max_tokens=8)]
    final = chunks[-1]
    assert final.finish_reason in ("stop", "length") and final.text == ""
    assert final.usage is not None  # llama-server honours stream_options.include_usage
    assert final.usage.prompt_tokens == len(server.tokenize(FIM))
    assert final.usage.completion_tokens == len(chunks) - 1 or final.finish_reason == "stop"


async def test_our_client_gets_the_alternatives_of_the_first_token(client: OpenAIClient) -> None:
    prompt = "<|fim_prefix|>def add(a, b):\n    retur<|fim_suffix|><|fim_middle|>"
    chunks = [c async for c in client.complete_stream(QWEN_05B, prompt, max_tokens=1, logprobs=5)]
    first = next(c for c in chunks if c.text)
    assert len(first.alternatives) == 5 and first.text in first.alternatives


async def test_each_piece_carries_its_logprob(client: OpenAIClient) -> None:
    """How sure the model is of a suggestion (speculation's gate) comes in the chat shape."""
    chunks = [c async for c in client.complete_stream(QWEN_05B, FIM, max_tokens=6, logprobs=1)]
    pieces = [c for c in chunks if c.text]
    assert pieces and all(c.logprob is not None and c.logprob <= 0 for c in pieces)


async def test_the_model_list_and_a_model_it_does_not_serve(
    client: OpenAIClient, server: LlamaServer
) -> None:
    listing = await client.list_models()
    assert listing.ids == (QWEN_05B,)
    provider = OpenAIProvider(client)
    assert "llamacpp" in await provider.version()
    assert (await provider.capabilities(QWEN_05B)).context_window == CTX  # a slot's context
    request = CodeCompletionRequest(model="codellama:7b-code", prompt=FIM, raw=True)
    with pytest.raises(ModelNotServed) as caught:  # llama-server itself would serve any name
        [chunk async for chunk in provider.complete_code(request)]
    assert QWEN_05B in str(caught.value) and "--alias codellama:7b-code" in str(caught.value)


async def test_a_prompt_past_the_context_is_one_clear_error(client: OpenAIClient) -> None:
    with pytest.raises(ContextExceeded) as caught:
        [c async for c in client.complete_stream(QWEN_05B, "x " * (CTX + 100), max_tokens=4)]
    assert f"{CTX} tokens" in str(caught.value) and "--ctx-size" in str(caught.value)


async def lanes_run(client: OpenAIClient, server: LlamaServer) -> int | None:
    """Our main lane (slot 0), then a wider prompt in the spare lane (slot 1), then the main
    lane again: what the last answer says it took from the cache."""
    provider = OpenAIProvider(client, slot=0, spare_slot=1)
    assert (await provider.capabilities(QWEN_05B)).lanes == 2
    main = FIM.replace("def add", "def main_lane")
    wider = "<|fim_prefix|>import math\n\n" + FIM.removeprefix("<|fim_prefix|>")
    final = None
    for prompt, lane in ((main, 0), (wider, 1), (main, 0)):
        request = CodeCompletionRequest(QWEN_05B, prompt, raw=True, max_tokens=1, lane=lane)
        final = [chunk async for chunk in provider.complete_code(request)][-1]
        newest = max(server.slots(), key=lambda slot: slot.get("id_task", -1))
        assert newest["id"] == lane  # id_slot 0, 1, 0
    assert final is not None and final.prompt_tokens == len(server.tokenize(main))
    return final.cached_tokens


async def test_by_default_llama_server_drops_our_slot_while_another_runs(
    client: OpenAIClient, server: LlamaServer
) -> None:
    # --cache-idle-slots (on by default) saves idle slots to the RAM cache and clears them
    # when a task starts; a request pinned to a cleared slot skips that cache
    # (ggml-org/llama.cpp#28139). The answer says so, and that is what our engine checks.
    assert await lanes_run(client, server) == 0


async def test_with_idle_slots_kept_the_main_slot_keeps_its_prompt() -> None:
    _, weights = need(QWEN_05B)
    with LlamaServer(weights, QWEN_05B, ctx=CTX, extra=("--no-cache-idle-slots",)) as kept:
        c = OpenAIClient(kept.url)
        try:
            cached = await lanes_run(c, kept)
        finally:
            await c.aclose()
        main = FIM.replace("def add", "def main_lane")
        assert cached == len(kept.tokenize(main)) - 1  # all but the one it must evaluate
