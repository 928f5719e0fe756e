"""The official ``ollama`` Python client against the double: if it cannot read the double,
the double is wrong. Sync ``Client`` and async ``AsyncClient``, every endpoint and error path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
from ollama import AsyncClient, Client, ResponseError

from tests.ollama_double import DEFAULT_ANSWER, OllamaDouble

CODELLAMA = "codellama:7b-code"
TINYLLAMA = "tinyllama:1.1b-chat-v1-q4_0"
NOT_IN_REGISTRY = "pull model manifest: file does not exist"


@pytest.fixture
def client(ollama_double: OllamaDouble) -> Iterator[Client]:
    ollama_double.latency.pull_tick_s = 0.001
    c = Client(host=ollama_double.url)
    yield c
    c._client.close()


@pytest.fixture
async def aclient(ollama_double: OllamaDouble) -> AsyncIterator[AsyncClient]:
    ollama_double.latency.pull_tick_s = 0.001
    c = AsyncClient(host=ollama_double.host)  # OLLAMA_HOST form, no scheme
    yield c
    await c._client.aclose()


# --- sync client ----------------------------------------------------------------------------------


def test_list(client: Client) -> None:
    models = {m.model: m for m in client.list().models}
    assert set(models) == {CODELLAMA, TINYLLAMA, "qwen2.5-coder:1.5b-base"}
    tiny = models[TINYLLAMA]
    assert tiny.size == 637700138 and isinstance(tiny.modified_at, datetime)
    assert tiny.details is not None and tiny.details.quantization_level == "Q4_0"
    assert tiny.details.families == ["llama"]
    assert tiny.digest.startswith("2644915ede35")


def test_show(client: Client) -> None:
    show = client.show(CODELLAMA)
    assert show.capabilities == ["completion", "insert"]
    assert show.modelinfo is not None and show.modelinfo["llama.context_length"] == 16384
    assert show.template is not None and "<PRE> {{ .Prompt }} <SUF>" in show.template
    assert show.details is not None and show.details.parameter_size == "7B"
    assert isinstance(show.modified_at, datetime)
    assert client.show(TINYLLAMA).capabilities == ["completion"]


def test_generate_with_suffix(client: Client, ollama_double: OllamaDouble) -> None:
    ollama_double.script("  return a + b\n<EOT>")
    reply = client.generate(
        CODELLAMA, "def add(a, b):\n", suffix="\n", options={"stop": ["<EOT>"], "num_predict": 64}
    )
    assert reply.response == "  return a + b\n"
    assert reply.done and reply.done_reason == "stop"
    assert reply.eval_count and reply.prompt_eval_count and reply.total_duration
    assert reply.context
    (req,) = ollama_double.requests_to("/api/generate")
    assert req.body["stream"] is False
    assert req.rendered_prompt == "<PRE> def add(a, b):\n <SUF>\n <MID>"


def test_generate_streamed(client: Client, ollama_double: OllamaDouble) -> None:
    ollama_double.script("x < y && z")
    parts = list(client.generate(CODELLAMA, "q", stream=True))
    assert "".join(p.response for p in parts) == "x < y && z"
    assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].done_reason == "stop" and parts[-1].response == ""


def test_generate_raw_fim_on_a_model_without_insert(
    client: Client, ollama_double: OllamaDouble
) -> None:
    ollama_double.install("starcoder2:3b")
    fim = "<fim_prefix>def f(<fim_suffix>\n<fim_middle>"
    assert client.generate("starcoder2:3b", fim, raw=True).response == DEFAULT_ANSWER
    with pytest.raises(ResponseError) as err:
        client.generate("starcoder2:3b", "def f(", suffix="\n")
    assert err.value.status_code == 400
    assert err.value.error == "registry.ollama.ai/library/starcoder2:3b does not support insert"


def test_chat(client: Client, ollama_double: OllamaDouble) -> None:
    ollama_double.script("Hi there!")
    messages = [{"role": "user", "content": "hello"}]
    reply = client.chat(TINYLLAMA, messages)
    assert reply.message.role == "assistant" and reply.message.content == "Hi there!"
    parts = list(client.chat(TINYLLAMA, messages, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "Hi there!"
    assert all(p.message.role == "assistant" for p in parts) and parts[-1].done


def test_load_ps_and_unload(client: Client) -> None:
    assert client.ps().models == []
    loaded = client.generate(CODELLAMA, keep_alive="10m")
    assert loaded.done_reason == "load" and loaded.response == ""
    (model,) = client.ps().models
    assert model.model == CODELLAMA and model.context_length == 4096
    assert model.size and model.size_vram == 0 and isinstance(model.expires_at, datetime)
    assert client.generate(CODELLAMA, keep_alive=0).done_reason == "unload"
    assert client.ps().models == []
    assert client.chat(TINYLLAMA, []).done_reason == "load"


def test_pull(client: Client) -> None:
    progress = list(client.pull("codellama:7b-code-q4_K_M", stream=True))
    assert progress[0].status == "pulling manifest"
    assert [p.status for p in progress[-3:]] == [
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    layer = [p for p in progress if p.digest]
    assert layer[0].completed is None and layer[0].total
    assert any(p.completed == p.total for p in layer)
    assert client.pull("deepseek-coder:1.3b-base").status == "success"
    names = {m.model for m in client.list().models}
    assert {"codellama:7b-code-q4_K_M", "deepseek-coder:1.3b-base"} <= names


def test_delete_and_copy(client: Client) -> None:
    assert client.copy(TINYLLAMA, "chatty").status == "success"
    assert client.delete("chatty").status == "success"
    assert "chatty:latest" not in {m.model for m in client.list().models}
    with pytest.raises(ResponseError) as err:
        client.delete("chatty")
    assert (err.value.status_code, err.value.error) == (404, "model 'chatty' not found")


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_is_404(client: Client, stream: bool) -> None:
    with pytest.raises(ResponseError) as err:
        result = client.generate("missing:7b", "x", stream=stream)
        if stream:
            list(result)
    assert (err.value.status_code, err.value.error) == (404, "model 'missing:7b' not found")
    with pytest.raises(ResponseError) as err:
        client.show("missing")
    assert (err.value.status_code, err.value.error) == (404, "model 'missing:latest' not found")


def test_pull_of_an_unknown_model(client: Client) -> None:
    with pytest.raises(ResponseError) as err:
        list(client.pull("no-such-model:1b", stream=True))
    assert (err.value.status_code, err.value.error) == (-1, NOT_IN_REGISTRY)
    with pytest.raises(ResponseError) as err:
        client.pull("no-such-model:1b")
    assert (err.value.status_code, err.value.error) == (500, NOT_IN_REGISTRY)
    with pytest.raises(ResponseError) as err:
        client.pull("not a name")
    assert (err.value.status_code, err.value.error) == (400, "invalid model name")


def test_error_line_mid_stream(client: Client, ollama_double: OllamaDouble) -> None:
    ollama_double.inject_fault("error_line", after_chunks=2, message="an error was encountered")
    seen = []
    with pytest.raises(ResponseError) as err:
        for part in client.generate(CODELLAMA, "x", stream=True):
            seen.append(part.response)
    assert (err.value.status_code, err.value.error) == (-1, "an error was encountered")
    assert seen == ["Hello", " "]


def test_http_error_fault(client: Client, ollama_double: OllamaDouble) -> None:
    ollama_double.inject_fault("http_error", path="/api/chat", status=503, message="busy")
    with pytest.raises(ResponseError) as err:
        list(client.chat(TINYLLAMA, [{"role": "user", "content": "x"}], stream=True))
    assert (err.value.status_code, err.value.error) == (503, "busy")


def test_wrong_method_and_bad_options(client: Client) -> None:
    with pytest.raises(ResponseError) as err:
        client._request_raw("GET", "/api/generate")
    assert (err.value.status_code, err.value.error) == (405, "405 method not allowed")
    with pytest.raises(ResponseError) as err:
        client.generate(CODELLAMA, "x", options={"num_ctx": "big"})
    assert (err.value.status_code, err.value.error) == (
        500,
        'option "num_ctx" must be of type integer',
    )
    with pytest.raises(ResponseError) as err:
        client.generate(CODELLAMA, "x", keep_alive="5")
    assert (err.value.status_code, err.value.error) == (400, 'time: missing unit in duration "5"')


def test_unreachable_host(closed_port_host: str) -> None:
    client = Client(host=closed_port_host)
    with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
        client.list()
    client._client.close()


def test_default_client_follows_ollama_host(
    ollama_double: OllamaDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama_double.host)
    client = Client()
    assert CODELLAMA in {m.model for m in client.list().models}
    client._client.close()


# --- async client ---------------------------------------------------------------------------------


async def test_async_list_show_ps(aclient: AsyncClient) -> None:
    assert TINYLLAMA in {m.model for m in (await aclient.list()).models}
    assert (await aclient.show(TINYLLAMA)).modelinfo["llama.context_length"] == 2048
    await aclient.generate(TINYLLAMA)
    assert [m.model for m in (await aclient.ps()).models] == [TINYLLAMA]


async def test_async_generate_and_chat(aclient: AsyncClient, ollama_double: OllamaDouble) -> None:
    ollama_double.script("four tokens here")
    whole = await aclient.generate(CODELLAMA, "a", suffix="b")
    assert whole.response == "four tokens here"
    stream = await aclient.generate(CODELLAMA, "a", suffix="b", stream=True)
    assert "".join([p.response async for p in stream]) == "four tokens here"
    chat = await aclient.chat(TINYLLAMA, [{"role": "user", "content": "x"}])
    assert chat.message.content == "four tokens here"
    stream = await aclient.chat(TINYLLAMA, [{"role": "user", "content": "x"}], stream=True)
    parts = [p async for p in stream]
    assert parts[-1].done and parts[-1].message.role == "assistant"


async def test_async_pull_and_delete(aclient: AsyncClient) -> None:
    progress = [p.status async for p in await aclient.pull("starcoder2:3b", stream=True)]
    assert progress[0] == "pulling manifest" and progress[-1] == "success"
    assert (await aclient.pull("starcoder2:3b")).status == "success"
    assert (await aclient.delete("starcoder2:3b")).status == "success"
    with pytest.raises(ResponseError) as err:
        await aclient.delete("starcoder2:3b")
    assert err.value.status_code == 404


async def test_async_errors(aclient: AsyncClient, ollama_double: OllamaDouble) -> None:
    with pytest.raises(ResponseError) as err:
        async for _ in await aclient.pull("no-such-model:1b", stream=True):
            pass
    assert (err.value.status_code, err.value.error) == (-1, NOT_IN_REGISTRY)
    with pytest.raises(ResponseError) as err:
        await aclient.pull("no-such-model:1b")
    assert (err.value.status_code, err.value.error) == (500, NOT_IN_REGISTRY)
    ollama_double.inject_fault("error_line", after_chunks=1, message="runner died")
    with pytest.raises(ResponseError) as err:
        async for _ in await aclient.generate(CODELLAMA, "x", stream=True):
            pass
    assert (err.value.status_code, err.value.error) == (-1, "runner died")
    with pytest.raises(ResponseError) as err:
        async for _ in await aclient.chat("nope", [{"role": "user", "content": "x"}], stream=True):
            pass
    assert (err.value.status_code, err.value.error) == (404, "model 'nope' not found")
