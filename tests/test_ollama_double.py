"""The Ollama double, checked byte by byte over raw HTTP against what real Ollama sends.

Expected values come from the wire-protocol reference (``/work/shared/reference/ollama-api.md``);
if one of these fails, code tested against the double may fail against real Ollama.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.ollama_double import DEFAULT_ANSWER, OllamaDouble
from tests.ollama_double.catalogue import LIBRARY

CODELLAMA = "codellama:7b-code"
TINYLLAMA = "tinyllama:1.1b-chat-v1-q4_0"
QWEN = "qwen2.5-coder:1.5b-base"
RUNNER_CRASHED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an "
    "internal error, check ollama server logs for details"
)
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$")


@pytest.fixture
def http(ollama_double: OllamaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ollama_double.url, timeout=10) as client:
        yield client


def post(http: httpx.Client, path: str, body: Any, method: str = "POST") -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.request(method, path, content=content)


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    """Parse a stream strictly: every line one JSON object, newline-terminated, none blank."""
    raw = response.content
    assert raw.endswith(b"\n")
    lines = raw[:-1].split(b"\n")
    assert all(lines), f"blank line in {raw!r}"
    return [json.loads(line) for line in lines]


def error_of(response: httpx.Response) -> str:
    return response.json()["error"]


# --- routes, content types, Gin defaults ----------------------------------------------------------


def test_root_and_version(http: httpx.Client, ollama_double: OllamaDouble) -> None:
    root = http.get("/")
    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert root.headers["content-type"] == "text/plain; charset=utf-8"
    head = http.head("/")
    assert head.status_code == 200 and head.content == b""
    version = http.get("/api/version")
    assert version.content == b'{"version":"0.12.0"}'
    assert version.headers["content-type"] == "application/json; charset=utf-8"
    assert http.head("/api/version").status_code == 200
    ollama_double.version = "0.9.0"
    assert http.get("/api/version").json() == {"version": "0.9.0"}


@pytest.mark.parametrize("path", ["/nope", "/api", "/api/generates", "/v1/models"])
def test_unknown_path_is_gins_404(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert (response.status_code, response.text) == (404, "404 page not found")
    assert response.headers["content-type"] == "text/plain"


def test_trailing_slash_redirects_like_gin(http: httpx.Client) -> None:
    get = http.get("/api/tags/")
    assert (get.status_code, get.headers["location"]) == (301, "/api/tags")
    post_ = http.post("/api/generate/", json={})
    assert (post_.status_code, post_.headers["location"]) == (307, "/api/generate")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/generate"),
        ("GET", "/api/chat"),
        ("GET", "/api/pull"),
        ("POST", "/api/tags"),
        ("HEAD", "/api/ps"),
        ("POST", "/api/delete"),
        ("GET", "/api/show"),
    ],
)
def test_wrong_method_is_gins_405(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"] == "text/plain"
    if method != "HEAD":
        assert response.text == "405 method not allowed"


def test_tags_lists_installed_models_newest_first(http: httpx.Client) -> None:
    response = http.get("/api/tags")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    models = response.json()["models"]
    assert [m["name"] for m in models] == [CODELLAMA, QWEN, TINYLLAMA]
    tiny = models[2]
    assert list(tiny) == ["name", "model", "modified_at", "size", "digest", "details"]
    assert tiny["size"] == 637700138
    assert tiny["digest"] == "2644915ede352ea7bdfaff0bfac0be74c719d5d5202acb63a6fb095b52f394a4"
    assert tiny["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "1B",
        "quantization_level": "Q4_0",
    }
    assert models[0]["details"]["families"] is None
    assert 3.7e9 < models[0]["size"] < 3.9e9
    assert all(RFC3339_UTC.match(m["modified_at"]) for m in models)


def test_empty_lists_are_empty_arrays_not_null() -> None:
    with OllamaDouble(installed=[]) as double:
        assert httpx.get(f"{double.url}/api/tags").content == b'{"models":[]}'
        assert httpx.get(f"{double.url}/api/ps").content == b'{"models":[]}'


# --- Go encoding and NDJSON framing -----------------------------------------------------------------


def test_stream_framing_is_chunked_ndjson(http: httpx.Client) -> None:
    response = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "def f("})
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    chunks = ndjson(response)
    assert [c["response"] for c in chunks[:-1]] == re.findall(r"\s+|\w+|[^\w\s]", DEFAULT_ANSWER)
    assert all(list(c) == ["model", "created_at", "response", "done"] for c in chunks[:-1])
    assert not any(c["done"] for c in chunks[:-1])
    assert all(RFC3339_UTC.match(c["created_at"]) for c in chunks)


def test_json_is_compact_with_go_html_escaping(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("a <EOT> & b")
    raw = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x", "stream": False}).content
    assert b'"response":"a \\u003cEOT\\u003e \\u0026 b"' in raw
    assert b"<" not in raw and b"&" not in raw
    assert b", " not in raw and b": " not in raw and not raw.endswith(b"\n")
    show = post(http, "/api/show", {"model": CODELLAMA}).content
    assert b"\\u003cPRE\\u003e {{ .Prompt }} \\u003cSUF\\u003e" in show


def test_final_chunk_fields_and_metrics(http: httpx.Client) -> None:
    final = ndjson(post(http, "/api/generate", {"model": CODELLAMA, "prompt": "def f("}))[-1]
    assert list(final) == [
        "model",
        "created_at",
        "response",
        "done",
        "done_reason",
        "context",
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ]
    assert final["done"] is True and final["response"] == "" and final["done_reason"] == "stop"
    assert all(isinstance(final[k], int) and final[k] > 0 for k in list(final)[6:])
    assert final["eval_count"] == 11  # ten tokens and the end-of-sequence token
    assert final["total_duration"] >= final["load_duration"]
    assert all(isinstance(i, int) for i in final["context"])


def test_raw_mode_omits_context(http: httpx.Client, ollama_double) -> None:
    body = {"model": CODELLAMA, "prompt": "<PRE> a <SUF>b <MID>", "raw": True, "stream": False}
    reply = post(http, "/api/generate", body).json()
    assert "context" not in reply and reply["done_reason"] == "stop"
    assert ollama_double.requests_to("/api/generate")[0].rendered_prompt == body["prompt"]


def test_stream_false_is_one_object(http: httpx.Client) -> None:
    response = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x", "stream": False})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    reply = response.json()
    assert reply["response"] == DEFAULT_ANSWER and reply["done"] is True


def test_chat_chunks_all_carry_the_assistant_role(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("Hi there.")
    body = {"model": TINYLLAMA, "messages": [{"role": "user", "content": "hello"}]}
    chunks = ndjson(post(http, "/api/chat", body))
    assert all(c["message"]["role"] == "assistant" for c in chunks)
    assert "".join(c["message"]["content"] for c in chunks) == "Hi there."
    assert list(chunks[-1])[:5] == ["model", "created_at", "message", "done", "done_reason"]
    assert chunks[-1]["message"] == {"role": "assistant", "content": ""}
    assert "context" not in chunks[-1]
    whole = post(http, "/api/chat", body | {"stream": False}).json()
    assert whole["message"] == {"role": "assistant", "content": "Hi there."}


# --- request validation, in Ollama's order --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "missing request body"),
        (b"  \n", "missing request body"),
        (b"{bad", "invalid character 'b' looking for beginning of object key string"),
        (b"hello", "invalid character 'h' looking for beginning of value"),
        (b'{"model":"x",}', "invalid character '}' looking for beginning of object key string"),
        (b'{"model" "x"}', "invalid character '\"' after object key"),
        (b'{"model":"x" "prompt":""}', "invalid character '\"' after object key:value pair"),
        (b'{"model":tru}', "invalid character '}' in literal true (expecting 'e')"),
        (b'{"model":"x"', "unexpected EOF"),
        (b'"x"', "json: cannot unmarshal string into Go value of type api.GenerateRequest"),
        (
            b'{"model":1}',
            "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
        ),
        (
            b'{"model":"x","prompt":["a"]}',
            "json: cannot unmarshal array into Go struct field GenerateRequest.prompt of type string",
        ),
        (
            b'{"model":"x","suffix":{}}',
            "json: cannot unmarshal object into Go struct field GenerateRequest.suffix of type string",
        ),
        (
            b'{"model":"x","stream":"no"}',
            "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool",
        ),
        (
            b'{"model":"x","raw":1}',
            "json: cannot unmarshal number into Go struct field GenerateRequest.raw of type bool",
        ),
        (
            b'{"model":"x","options":[]}',
            "json: cannot unmarshal array into Go struct field GenerateRequest.options "
            "of type map[string]interface {}",
        ),
        (b'{"model":"x","keep_alive":"5"}', 'time: missing unit in duration "5"'),
        (
            b'{"model":"x","keep_alive":"5 minutes"}',
            'time: unknown unit " minutes" in duration "5 minutes"',
        ),
        (b'{"model":"x","keep_alive":true}', "Unsupported type: 'bool'"),
        (b'{"model":1,"keep_alive":{}}', "Unsupported type: 'map[string]interface {}'"),
    ],
)
def test_generate_decode_errors_are_gos(http: httpx.Client, body: bytes, message: str) -> None:
    response = post(http, "/api/generate", body)
    assert (response.status_code, error_of(response)) == (400, message)
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/api/chat",
            {"model": "x", "messages": "hi"},
            "json: cannot unmarshal string into Go struct field ChatRequest.messages "
            "of type []api.Message",
        ),
        (
            "/api/chat",
            {"model": "x", "messages": [{"role": 1}]},
            "json: cannot unmarshal number into Go struct field Message.messages.role of type string",
        ),
        (
            "/api/pull",
            {"model": "x", "stream": "yes"},
            "json: cannot unmarshal string into Go struct field PullRequest.stream of type bool",
        ),
        (
            "/api/show",
            {"model": ["x"]},
            "json: cannot unmarshal array into Go struct field ShowRequest.model of type string",
        ),
    ],
)
def test_other_decode_errors(http: httpx.Client, path: str, body: Any, message: str) -> None:
    response = post(http, path, body)
    assert (response.status_code, error_of(response)) == (400, message)


def test_json_field_names_match_case_insensitively_like_go(http: httpx.Client) -> None:
    response = post(http, "/api/generate", {"Model": CODELLAMA, "PROMPT": "x", "Stream": False})
    assert response.status_code == 200 and response.json()["model"] == CODELLAMA


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "nope:7b", "prompt": "x"}, 404, "model 'nope:7b' not found"),
        ({"model": "Nope", "prompt": "x"}, 404, "model 'Nope' not found"),
        ({"prompt": "x"}, 404, "model '' not found"),
        (None, 404, "model '' not found"),
        ({"model": "bad name!", "prompt": "x"}, 404, "model 'bad name!' not found"),
        (
            {"model": CODELLAMA, "prompt": "x", "raw": True, "system": "s"},
            400,
            "raw mode does not support template, system, or context",
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "raw": True, "context": [1, 2]},
            400,
            "raw mode does not support template, system, or context",
        ),
        (
            {"model": TINYLLAMA, "prompt": "x", "suffix": "y"},
            400,
            f"registry.ollama.ai/library/{TINYLLAMA} does not support insert",
        ),
        (
            {"model": TINYLLAMA, "prompt": "x", "suffix": "y", "raw": True},
            400,
            f"registry.ollama.ai/library/{TINYLLAMA} does not support insert",
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "options": {"num_ctx": "4096"}},
            500,
            'option "num_ctx" must be of type integer',
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "options": {"temperature": "hot"}},
            500,
            'option "temperature" must be of type float32',
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "options": {"stop": "<EOT>"}},
            500,
            'option "stop" must be of type array',
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "top_logprobs": 21},
            400,
            "top_logprobs must be between 0 and 20",
        ),
        (
            {"model": CODELLAMA, "prompt": "x", "think": True},
            400,
            f'"{CODELLAMA}" does not support thinking',
        ),
        (
            {"model": "nope", "prompt": "x", "raw": True, "system": "s"},
            404,
            "model 'nope' not found",
        ),
    ],
)
def test_generate_refusals(http: httpx.Client, ollama_double, body, status, message) -> None:
    response = post(http, "/api/generate", body)
    assert (response.status_code, error_of(response)) == (status, message)
    assert ollama_double.requests[-1].status == status


def test_suffix_without_insert_on_starcoder2_needs_raw_fim(
    http: httpx.Client, ollama_double
) -> None:
    ollama_double.install("starcoder2:3b")
    refused = post(http, "/api/generate", {"model": "starcoder2:3b", "prompt": "a", "suffix": "b"})
    assert error_of(refused) == "registry.ollama.ai/library/starcoder2:3b does not support insert"
    fim = "<fim_prefix>a<fim_suffix>b<fim_middle>"
    body = {"model": "starcoder2:3b", "prompt": fim, "raw": True, "stream": False}
    assert post(http, "/api/generate", body).status_code == 200
    assert ollama_double.requests[-1].rendered_prompt == fim


def test_unknown_options_are_ignored(http: httpx.Client) -> None:
    body = {
        "model": CODELLAMA,
        "prompt": "x",
        "stream": False,
        "options": {"bogus": "x", "f16_kv": 1},
    }
    assert post(http, "/api/generate", body).status_code == 200


def test_chat_refusals(http: httpx.Client) -> None:
    missing = post(http, "/api/chat", {"messages": []})
    assert (missing.status_code, error_of(missing)) == (400, "model is required")
    unknown = post(http, "/api/chat", {"model": "nope", "messages": []})
    assert (unknown.status_code, error_of(unknown)) == (404, "model 'nope' not found")


# --- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "rendered"),
    [
        (
            {"model": CODELLAMA, "prompt": "def add(", "suffix": "    return c"},
            "<PRE> def add( <SUF>    return c <MID>",
        ),
        ({"model": CODELLAMA, "prompt": "def add(", "suffix": ""}, "def add("),
        (
            {"model": QWEN, "prompt": "def add(", "suffix": "\n"},
            "<|fim_prefix|>def add(<|fim_suffix|>\n<|fim_middle|>",
        ),
        (
            {"model": TINYLLAMA, "prompt": "hi"},
            "<|system|>\nYou are a helpful AI assistant.</s>\n<|user|>\nhi</s>\n<|assistant|>\n",
        ),
        (
            {"model": TINYLLAMA, "prompt": "hi", "system": "Be brief."},
            "<|system|>\nBe brief.</s>\n<|user|>\nhi</s>\n<|assistant|>\n",
        ),
        ({"model": TINYLLAMA, "prompt": "<raw>", "raw": True}, "<raw>"),
    ],
)
def test_generate_renders_like_the_models_template(http, ollama_double, body, rendered) -> None:
    assert post(http, "/api/generate", body | {"stream": False}).status_code == 200
    assert ollama_double.requests[-1].rendered_prompt == rendered


def test_chat_renders_turns_with_the_legacy_template_path(http, ollama_double) -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "USER", "content": "c"},
    ]
    post(http, "/api/chat", {"model": TINYLLAMA, "messages": messages, "stream": False})
    assert ollama_double.requests[-1].rendered_prompt == (
        "<|system|>\nYou are a helpful AI assistant.</s>\n<|user|>\na</s>\n<|assistant|>\nb"
        "<|system|>\n</s>\n<|user|>\nc</s>\n<|assistant|>\n"
    )


def test_debug_render_only_returns_the_prompt(http: httpx.Client) -> None:
    body = {"model": CODELLAMA, "prompt": "a", "suffix": "b", "_debug_render_only": True}
    reply = post(http, "/api/generate", body).json()
    assert reply["_debug_info"]["rendered_template"] == "<PRE> a <SUF>b <MID>"


# --- scripts, stop and num_predict ----------------------------------------------------------------


def test_scripts_newest_first_with_times_when_and_model(http, ollama_double) -> None:
    def answer(body: dict[str, Any]) -> str:
        return post(http, "/api/generate", body | {"stream": False}).json()["response"]

    ollama_double.set_responder(lambda body: "responder" if body["prompt"] == "r" else None)
    ollama_double.script("always")
    ollama_double.script("twice", times=2)
    ollama_double.script("tiny only", model="TinyLlama:1.1b-chat-v1-q4_0")
    ollama_double.script("when", when=lambda body: body["prompt"] == "w")
    code = {"model": CODELLAMA, "prompt": "x"}
    assert answer(code | {"prompt": "w"}) == "when"
    assert answer({"model": TINYLLAMA, "prompt": "x"}) == "tiny only"
    assert [answer(code), answer(code), answer(code)] == ["twice", "twice", "always"]
    ollama_double.clear_scripts()
    ollama_double.set_responder(lambda body: "responder" if body["prompt"] == "r" else None)
    assert answer(code | {"prompt": "r"}) == "responder"
    assert answer(code) == DEFAULT_ANSWER


def test_stop_cuts_before_the_stop_string_even_across_tokens(http, ollama_double) -> None:
    ollama_double.script("return a + b <EOT> junk")
    body = {"model": CODELLAMA, "prompt": "x", "options": {"stop": ["<EOT>"]}}
    chunks = ndjson(post(http, "/api/generate", body))
    texts = [c["response"] for c in chunks[:-1]]
    assert texts == ["return", " ", "a", " ", "+", " ", "b", " "]  # "<" was held back
    assert chunks[-1]["done_reason"] == "stop"
    assert chunks[-1]["eval_count"] == 11  # up to and including ">"
    ollama_double.script("a <EOT>")
    body["options"]["stop"] = ["<EOX"]
    texts = [c["response"] for c in ndjson(post(http, "/api/generate", body))[:-1]]
    assert texts == ["a", " ", "<EOT", ">"]  # held-back tokens go out joined


def test_model_default_stop_parameters_apply(http, ollama_double) -> None:
    ollama_double.script("Sure.</s><|user|>more")
    reply = post(http, "/api/generate", {"model": TINYLLAMA, "prompt": "x", "stream": False})
    assert reply.json()["response"] == "Sure."


def test_num_predict_cuts_with_length(http, ollama_double) -> None:
    ollama_double.script("one two three four")
    body = {"model": CODELLAMA, "prompt": "x", "options": {"num_predict": 3}, "stream": False}
    reply = post(http, "/api/generate", body).json()
    assert (reply["response"], reply["done_reason"], reply["eval_count"]) == (
        "one two",
        "length",
        3,
    )


# --- load, unload, keep_alive, ps ------------------------------------------------------------------


def test_empty_prompt_loads_and_keep_alive_zero_unloads(http, ollama_double) -> None:
    load = post(http, "/api/generate", {"model": CODELLAMA})
    assert load.headers["content-type"] == "application/json; charset=utf-8"
    reply = load.json()
    assert list(reply) == ["model", "created_at", "response", "done", "done_reason"]
    assert (reply["done"], reply["done_reason"]) == (True, "load")
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == [CODELLAMA]
    with_suffix = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "", "suffix": "x"})
    assert with_suffix.json()["done_reason"] == "load"
    unload = post(http, "/api/generate", {"model": CODELLAMA, "keep_alive": 0}).json()
    assert unload["done_reason"] == "unload"
    assert http.get("/api/ps").json() == {"models": []}


def test_chat_without_messages_loads_and_unloads(http) -> None:
    load = post(http, "/api/chat", {"model": TINYLLAMA, "messages": []}).json()
    assert (load["done_reason"], load["message"]) == ("load", {"role": "assistant", "content": ""})
    assert len(http.get("/api/ps").json()["models"]) == 1
    unload = post(http, "/api/chat", {"model": TINYLLAMA, "keep_alive": "0s"}).json()
    assert unload["done_reason"] == "unload"
    assert http.get("/api/ps").json() == {"models": []}


def _expires_in(http: httpx.Client, name: str) -> float:
    model = next(m for m in http.get("/api/ps").json()["models"] if m["name"] == name)
    stamp = model["expires_at"][:26].rstrip("Z") + "+00:00"
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp() - time.time()


def test_keep_alive_values_and_expiry(http, ollama_double) -> None:
    post(http, "/api/generate", {"model": CODELLAMA})
    assert 290 < _expires_in(http, CODELLAMA) <= 300  # default 5m
    post(http, "/api/generate", {"model": CODELLAMA, "keep_alive": "1h30m"})
    assert 5390 < _expires_in(http, CODELLAMA) <= 5400
    post(http, "/api/generate", {"model": CODELLAMA, "keep_alive": 90})
    assert 80 < _expires_in(http, CODELLAMA) <= 90
    post(http, "/api/generate", {"model": TINYLLAMA, "keep_alive": -1})
    forever = next(m for m in http.get("/api/ps").json()["models"] if m["name"] == TINYLLAMA)
    assert forever["expires_at"].startswith("23")  # now + MaxInt64 ns, about 292 years
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == [TINYLLAMA, CODELLAMA]
    ollama_double.advance_clock(91)
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == [TINYLLAMA]
    post(
        http, "/api/generate", {"model": CODELLAMA, "prompt": "x", "keep_alive": 0, "stream": False}
    )
    assert CODELLAMA not in [m["name"] for m in http.get("/api/ps").json()["models"]]


async def test_keep_alive_timer_starts_when_the_request_finishes(ollama_double) -> None:
    ollama_double.script("a b c")
    ollama_double.latency.per_token_s = 0.05
    body = {"model": CODELLAMA, "prompt": "x", "keep_alive": "1s", "stream": False}
    async with httpx.AsyncClient(base_url=ollama_double.url) as client:
        reply = asyncio.create_task(client.post("/api/generate", json=body))
        await ollama_double.wait_for_async(lambda r: r.phase == "streaming")
        ollama_double.advance_clock(10)  # a busy runner never expires
        assert (await reply).status_code == 200
        assert [r.name for r in ollama_double.loaded()] == [CODELLAMA]
        ollama_double.advance_clock(0.9)
        assert [r.name for r in ollama_double.loaded()] == [CODELLAMA]
        ollama_double.advance_clock(0.2)
        assert (await client.get("/api/ps")).json() == {"models": []}


def test_ps_sizes_and_context_lengths(http: httpx.Client) -> None:
    post(http, "/api/generate", {"model": CODELLAMA})
    post(http, "/api/generate", {"model": TINYLLAMA, "options": {"num_ctx": 8192}})
    models = {m["name"]: m for m in http.get("/api/ps").json()["models"]}
    code, tiny = models[CODELLAMA], models[TINYLLAMA]
    assert list(code) == [
        "name",
        "model",
        "size",
        "digest",
        "details",
        "expires_at",
        "size_vram",
        "context_length",
    ]
    assert code["context_length"] == 4096  # the default
    assert code["size"] == LIBRARY[CODELLAMA].size + 2 * 32 * 32 * 128 * 4096 * 2
    assert tiny["context_length"] == 2048  # capped at the training context
    assert tiny["size"] == 637700138 + 2 * 22 * 4 * 64 * 2048 * 2
    assert code["size_vram"] == 0 and tiny["digest"].startswith("2644915ede35")


def test_tags_sharing_a_blob_share_a_runner(http, ollama_double) -> None:
    ollama_double.install("codellama:code")
    post(http, "/api/generate", {"model": CODELLAMA})
    reply = post(http, "/api/generate", {"model": "codellama:code", "prompt": "x", "stream": False})
    assert reply.json()["model"] == "codellama:code"
    assert not ollama_double.requests[-1].loaded
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == [CODELLAMA]


def test_at_most_three_models_stay_loaded(http, ollama_double) -> None:
    ollama_double.install("starcoder2:3b")
    for name in (CODELLAMA, TINYLLAMA, QWEN, "starcoder2:3b"):
        post(http, "/api/generate", {"model": name})
    loaded = [m["name"] for m in http.get("/api/ps").json()["models"]]
    assert len(loaded) == 3 and CODELLAMA not in loaded


# --- the runner: reloads, prompt cache, truncation ------------------------------------------------


def _generate(http: httpx.Client, double: OllamaDouble, **body: Any):
    response = post(http, "/api/generate", {"model": CODELLAMA, "stream": False} | body)
    assert response.status_code == 200, response.text
    return response.json(), double.requests[-1]


def test_runner_option_changes_reload(http, ollama_double) -> None:
    ollama_double.latency.load_s = 0.2
    first, rec = _generate(http, ollama_double, prompt="a")
    assert rec.loaded and not rec.reloaded and first["load_duration"] >= 200_000_000
    second, rec = _generate(http, ollama_double, prompt="a", options={"temperature": 0.1})
    assert not rec.loaded and not rec.reloaded and second["load_duration"] < 100_000_000
    for options in ({"num_ctx": 8192}, {}, {"num_gpu": 0}, {"num_batch": 128}, {"use_mmap": False}):
        reply, rec = _generate(http, ollama_double, prompt="a", options=options)
        assert rec.reloaded and not rec.loaded, options
        assert reply["load_duration"] >= 200_000_000
    _, rec = _generate(http, ollama_double, prompt="a", options={"use_mmap": False})
    assert not rec.reloaded


def test_prompt_prefix_cache_counts_only_new_tokens(http, ollama_double) -> None:
    ollama_double.script("done")
    prompt = "def add(a, b):\n    return"
    _, rec = _generate(http, ollama_double, prompt=prompt, raw=True)
    assert rec.prompt_eval_count == rec.prompt_tokens == 12
    _, rec = _generate(http, ollama_double, prompt=prompt, raw=True)
    assert rec.prompt_eval_count == 1  # everything cached; the last token is re-evaluated
    _, rec = _generate(http, ollama_double, prompt=prompt + " a + b", raw=True)
    assert rec.prompt_eval_count == 6  # " ", "a", " ", "+", " ", "b"
    _, rec = _generate(http, ollama_double, prompt="x" + prompt, raw=True)
    assert rec.prompt_eval_count == rec.prompt_tokens


def test_prompt_eval_count_on_the_wire_is_the_whole_prompt(http, ollama_double) -> None:
    """Ollama counts cached prompt tokens too (v0.30.0 alone did not: ollama/ollama#16428)."""
    prompt = "def add(a, b):\n    return"
    _generate(http, ollama_double, prompt=prompt, raw=True)
    warm, rec = _generate(http, ollama_double, prompt=prompt + " a", raw=True)
    assert rec.prompt_eval_count == 2 and warm["prompt_eval_count"] == rec.prompt_tokens == 14
    ollama_double.version = "0.30.0"
    warm, rec = _generate(http, ollama_double, prompt=prompt + " a + b", raw=True)
    assert warm["prompt_eval_count"] == rec.prompt_eval_count == 4


def test_prompt_cache_is_cleared_by_a_reload(http, ollama_double) -> None:
    _generate(http, ollama_double, prompt="a b c d", raw=True)
    _, rec = _generate(http, ollama_double, prompt="a b c d", raw=True, options={"num_ctx": 2048})
    assert rec.reloaded and rec.prompt_eval_count == 7


def test_long_prompts_lose_their_start_silently(http, ollama_double) -> None:
    words = " ".join(f"w{i}" for i in range(100))  # 199 tokens
    reply, rec = _generate(http, ollama_double, prompt=words, raw=True, options={"num_ctx": 64})
    assert rec.truncated and rec.prompt_tokens == 64
    assert reply["prompt_eval_count"] == 64 and reply["done_reason"] == "stop"


def test_prompt_token_latency_scales_with_evaluated_tokens(http, ollama_double) -> None:
    ollama_double.latency.prompt_token_s = 0.01
    prompt = " ".join(["x"] * 20)  # 39 tokens
    cold, _ = _generate(http, ollama_double, prompt=prompt, raw=True)
    warm, _ = _generate(http, ollama_double, prompt=prompt, raw=True)
    assert cold["prompt_eval_duration"] >= 0.39e9
    assert warm["prompt_eval_duration"] < 0.1e9


# --- pull ---------------------------------------------------------------------------------------


@pytest.fixture
def fast_pull(ollama_double: OllamaDouble) -> OllamaDouble:
    ollama_double.latency.pull_tick_s = 0.001
    return ollama_double


def test_pull_sequence(http, fast_pull) -> None:
    name = "codellama:13b-code"
    start_ns = time.time_ns()
    response = post(http, "/api/pull", {"model": name})
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = ndjson(response)
    assert lines[0] == {"status": "pulling manifest"}
    assert lines[-3:] == [
        {"status": "verifying sha256 digest"},
        {"status": "writing manifest"},
        {"status": "success"},
    ]
    progress = lines[1:-3]
    layers = LIBRARY[name].layers
    assert [layer.digest for layer in layers] == list(dict.fromkeys(p["digest"] for p in progress))
    for layer in layers:
        seen = [p for p in progress if p["digest"] == layer.digest]
        assert all(p["status"] == f"pulling {layer.digest[7:19]}" for p in seen)
        assert all(list(p)[:3] == ["status", "digest", "total"] for p in seen)
        assert all(p["total"] == layer.size for p in seen)
        assert "completed" not in seen[0]  # omitted while 0
        done = [p.get("completed", 0) for p in seen]
        assert done == sorted(done) and done[-1] == layer.size
    assert len([p for p in progress if p["digest"] == layers[0].digest]) >= 5
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", layers[0].digest)
    tags = {m["name"]: m for m in http.get("/api/tags").json()["models"]}
    assert name in tags
    from datetime import datetime

    modified = datetime.fromisoformat(tags[name]["modified_at"][:26].rstrip("Z") + "+00:00")
    assert modified.timestamp() >= start_ns / 1e9 - 1


def test_pull_of_an_installed_model_reports_each_blob_once(http, fast_pull) -> None:
    lines = ndjson(post(http, "/api/pull", {"model": "tinyllama"}))  # same blobs as installed tag
    progress = lines[1:-3]
    assert [p["status"] for p in progress] == [
        "pulling 2af3b81862c6",
        "pulling af0ddbdaaa26",
        "pulling c8472cd9daed",
        "pulling fa956ab37b8c",
        "pulling 6331358be52a",
    ]
    assert [p["total"] for p in progress] == [637699456, 70, 31, 98, 483]
    assert all(p["completed"] == p["total"] for p in progress)
    assert "tinyllama:latest" in [m["name"] for m in http.get("/api/tags").json()["models"]]


def test_pull_unknown_model(http, fast_pull) -> None:
    response = post(http, "/api/pull", {"model": "no-such-model:1b"})
    assert response.status_code == 200
    assert ndjson(response) == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    flat = post(http, "/api/pull", {"model": "no-such-model:1b", "stream": False})
    assert flat.status_code == 500
    assert flat.headers["content-type"] == "application/json"
    assert flat.json() == {"error": "pull model manifest: file does not exist"}


def test_pull_without_streaming_returns_the_last_object(http, fast_pull) -> None:
    response = post(http, "/api/pull", {"model": "deepseek-coder:1.3b-base", "stream": False})
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"status":"success"}'


@pytest.mark.parametrize("name", ["", "bad name", "-x", "a/b/c/d"])
def test_pull_invalid_name(http, name) -> None:
    response = post(http, "/api/pull", {"model": name})
    assert (response.status_code, error_of(response)) == (400, "invalid model name")


def test_pull_abandoned_midway_installs_nothing(ollama_double) -> None:
    ollama_double.latency.pull_tick_s = 0.02
    name = "codellama:7b-code-q8_0"
    with (
        httpx.Client(base_url=ollama_double.url) as http,
        http.stream("POST", "/api/pull", json={"model": name}) as response,
    ):
        lines = response.iter_lines()
        assert json.loads(next(lines)) == {"status": "pulling manifest"}
        assert json.loads(next(lines))["status"].startswith("pulling ")
    record = ollama_double.wait_for(lambda r: r.path == "/api/pull" and r.disconnected)
    assert record.status == 200 and record.chunks_sent < 10
    assert name not in ollama_double.installed


# --- show, delete, copy ---------------------------------------------------------------------------


def test_show(http: httpx.Client) -> None:
    response = post(http, "/api/show", {"model": CODELLAMA})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    show = response.json()
    assert list(show) == [
        "license",
        "modelfile",
        "parameters",
        "template",
        "details",
        "model_info",
        "tensors",
        "capabilities",
        "modified_at",
    ]
    assert show["template"] == (
        "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>\n"
        "{{- else }}{{ .Prompt }}\n{{- end }}"
    )
    assert show["capabilities"] == ["completion", "insert"]
    info = show["model_info"]
    assert list(info) == sorted(info)  # a Go map: sorted keys
    assert info["general.architecture"] == "llama"
    assert info["llama.context_length"] == 16384
    assert (info["llama.block_count"], info["llama.attention.head_count_kv"]) == (32, 32)
    assert info["llama.embedding_length"] == 4096
    assert show["parameters"] == "rope_frequency_base            1e+06"
    assert show["modelfile"].startswith('# Modelfile generated by "ollama show"\n')
    assert "FROM /root/.ollama/models/blobs/sha256-" in show["modelfile"]


def test_show_chat_and_qwen_models(http: httpx.Client) -> None:
    tiny = post(http, "/api/show", {"model": TINYLLAMA}).json()
    assert tiny["capabilities"] == ["completion"]
    assert tiny["model_info"]["llama.context_length"] == 2048
    assert tiny["system"] == "You are a helpful AI assistant."
    assert tiny["parameters"].split("\n")[0] == 'stop                           "<|system|>"'
    assert "license" not in tiny
    qwen = post(http, "/api/show", {"model": QWEN}).json()
    assert qwen["capabilities"] == ["completion", "insert"]
    assert qwen["model_info"]["general.architecture"] == "qwen2"
    assert qwen["model_info"]["qwen2.context_length"] == 32768


def test_show_errors_use_the_normalised_name(http: httpx.Client) -> None:
    missing = post(http, "/api/show", {"model": "tinyllama"})
    assert (missing.status_code, error_of(missing)) == (404, "model 'tinyllama:latest' not found")
    empty = post(http, "/api/show", {})
    assert (empty.status_code, error_of(empty)) == (400, "model is required")


def test_names_normalise(http, ollama_double) -> None:
    ollama_double.install("tinyllama:latest")
    assert post(http, "/api/show", {"model": "tinyllama"}).status_code == 200
    body = {"model": "TinyLlama", "prompt": "x", "stream": False}
    assert post(http, "/api/generate", body).json()["model"] == "TinyLlama"  # as sent
    assert (
        post(
            http, "/api/show", {"model": "registry.ollama.ai/library/tinyllama:latest"}
        ).status_code
        == 200
    )


def test_delete(http, ollama_double) -> None:
    post(http, "/api/generate", {"model": TINYLLAMA})
    response = post(http, "/api/delete", {"model": TINYLLAMA}, method="DELETE")
    assert (response.status_code, response.content) == (200, b"")
    assert TINYLLAMA not in [m["name"] for m in http.get("/api/tags").json()["models"]]
    assert http.get("/api/ps").json() == {"models": []}
    again = post(http, "/api/delete", {"model": "TinyLlama:1.1b-chat-v1-q4_0"}, method="DELETE")
    assert (again.status_code, error_of(again)) == (
        404,
        "model 'TinyLlama:1.1b-chat-v1-q4_0' not found",
    )
    empty = post(http, "/api/delete", {"model": ""}, method="DELETE")
    assert (empty.status_code, error_of(empty)) == (400, "model is required")


def test_copy(http, ollama_double) -> None:
    response = post(http, "/api/copy", {"source": CODELLAMA, "destination": "my-coder"})
    assert (response.status_code, response.content) == (200, b"")
    assert post(http, "/api/show", {"model": "my-coder"}).json()["capabilities"] == [
        "completion",
        "insert",
    ]
    missing = post(http, "/api/copy", {"source": "nope", "destination": "x"})
    assert (missing.status_code, error_of(missing)) == (404, 'model "nope" not found')


# --- faults ---------------------------------------------------------------------------------------


def test_http_error_fault_before_any_byte(http, ollama_double) -> None:
    ollama_double.inject_fault("http_error")
    response = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    assert (response.status_code, error_of(response)) == (500, RUNNER_CRASHED)
    assert response.headers["content-type"] == "application/json"
    ollama_double.inject_fault("http_error", status=429, message="rate limit exceeded")
    flat = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x", "stream": False})
    assert (flat.status_code, error_of(flat)) == (429, "rate limit exceeded")
    assert flat.headers["content-type"] == "application/json; charset=utf-8"
    assert post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}).status_code == 200


def test_faults_skip_invalid_requests_and_count_times(http, ollama_double) -> None:
    ollama_double.inject_fault("http_error", times=2)
    assert post(http, "/api/generate", {"model": "nope", "prompt": "x"}).status_code == 404
    statuses = [
        post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}).status_code
        for _ in range(3)
    ]
    assert statuses == [500, 500, 200]


def test_load_requests_do_not_take_faults(http, ollama_double) -> None:
    ollama_double.inject_fault("http_error")
    assert post(http, "/api/generate", {"model": CODELLAMA}).json()["done_reason"] == "load"
    assert post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}).status_code == 500


def test_error_line_mid_stream(http, ollama_double) -> None:
    ollama_double.inject_fault("error_line", after_chunks=3, message="boom")
    response = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    lines = ndjson(response)
    assert response.status_code == 200
    assert [line.get("response") for line in lines[:3]] == ["Hello", " ", "from"]
    assert lines[3:] == [{"error": "boom"}]
    assert ollama_double.requests[-1].error == "boom"


def test_error_line_before_output_becomes_an_http_error(http, ollama_double) -> None:
    ollama_double.inject_fault("error_line", message="boom")
    response = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    assert (response.status_code, error_of(response)) == (500, "boom")


def test_malformed_and_truncated_streams(http, ollama_double) -> None:
    ollama_double.inject_fault("malformed_line", after_chunks=2)
    lines = post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}).text.split("\n")
    assert len(lines) == 4 and lines[-1] == ""
    json.loads(lines[1])
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[2])
    ollama_double.inject_fault("truncate", after_chunks=2)
    chunks = ndjson(post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}))
    assert len(chunks) == 2 and not any(c["done"] for c in chunks)
    ollama_double.inject_fault("truncate", after_chunks=100)
    chunks = ndjson(post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}))
    assert len(chunks) == 10 and not chunks[-1]["done"]  # fired in place of the done line


def test_abort_kills_the_connection(http, ollama_double) -> None:
    ollama_double.inject_fault("abort", after_chunks=2)
    with pytest.raises(httpx.TransportError):
        post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    record = ollama_double.wait_for(lambda r: r.fault == "abort" and r.done)
    assert record.chunks_sent == 2 and not record.disconnected
    assert post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"}).status_code == 200


def test_hang_before_headers_until_the_client_leaves(ollama_double) -> None:
    ollama_double.inject_fault("hang")
    with (
        httpx.Client(base_url=ollama_double.url, timeout=0.3) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    record = ollama_double.wait_for(lambda r: r.disconnected)
    assert (record.status, record.chunks_sent, record.fault) == (499, 0, "hang")


def test_hang_mid_stream(ollama_double) -> None:
    ollama_double.inject_fault("hang", after_chunks=2)
    with (
        httpx.Client(base_url=ollama_double.url, timeout=0.3) as http,
        http.stream("POST", "/api/generate", json={"model": CODELLAMA, "prompt": "x"}) as response,
    ):
        lines = response.iter_lines()
        assert [json.loads(next(lines))["response"] for _ in range(2)] == ["Hello", " "]
        with pytest.raises(httpx.ReadTimeout):
            next(lines)
    record = ollama_double.wait_for(lambda r: r.disconnected)
    assert (record.status, record.chunks_sent) == (200, 2)


def test_faults_on_pull_and_chat(http, ollama_double) -> None:
    ollama_double.latency.pull_tick_s = 0.001
    ollama_double.inject_fault("error_line", path="/api/pull", after_chunks=2, message="network")
    lines = ndjson(post(http, "/api/pull", {"model": "starcoder2:3b"}))
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"error": "network"}
    assert "starcoder2:3b" not in ollama_double.installed
    ollama_double.inject_fault("http_error", path="/api/chat", status=503, message="busy")
    chat = post(
        http, "/api/chat", {"model": TINYLLAMA, "messages": [{"role": "user", "content": "x"}]}
    )
    assert (chat.status_code, error_of(chat)) == (503, "busy")


def test_fault_kinds_are_checked(ollama_double) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        ollama_double.inject_fault("explode")


# --- disconnects, queueing, records -----------------------------------------------------------


def test_closing_a_slow_stream_is_recorded(ollama_double) -> None:
    ollama_double.script(" ".join(["token"] * 100))
    ollama_double.latency.per_token_s = 0.01
    with (
        httpx.Client(base_url=ollama_double.url) as http,
        http.stream("POST", "/api/generate", json={"model": CODELLAMA, "prompt": "x"}) as response,
    ):
        first = json.loads(next(response.iter_lines()))
        assert first["response"] == "token"
    record = ollama_double.wait_for(lambda r: r.disconnected)
    assert record.status == 200 and 1 <= record.chunks_sent < 100
    assert record.response_text.startswith("token")


async def test_one_slot_per_model_queues_requests(ollama_double) -> None:
    ollama_double.script("a b c d e")
    ollama_double.latency.per_token_s = 0.03
    body = {"model": CODELLAMA, "prompt": "x", "stream": False}
    other = {"model": TINYLLAMA, "prompt": "x", "stream": False}
    async with httpx.AsyncClient(base_url=ollama_double.url) as client:
        first = asyncio.create_task(client.post("/api/generate", json=body))
        await ollama_double.wait_for_async(lambda r: r.phase == "streaming")
        second = asyncio.create_task(client.post("/api/generate", json=body))
        await ollama_double.wait_for_async(lambda r: r.phase == "queued")
        unrelated = await client.post("/api/generate", json=other)  # another model: no wait
        assert unrelated.status_code == 200
        replies = await asyncio.gather(first, second)
    assert [r.json()["response"] for r in replies] == ["a b c d e"] * 2
    one, two = ollama_double.requests_to("/api/generate")[:2]
    assert two.started < one.finished <= two.finished
    assert replies[1].json()["load_duration"] > 0.1e9  # queueing counts as load time


async def test_a_queued_client_that_leaves_is_a_499(ollama_double) -> None:
    ollama_double.script("slow answer here")
    ollama_double.latency.per_token_s = 0.05
    body = {"model": CODELLAMA, "prompt": "x"}
    async with httpx.AsyncClient(base_url=ollama_double.url) as client:
        first = asyncio.create_task(client.post("/api/generate", json=body))
        await ollama_double.wait_for_async(lambda r: r.phase == "streaming")
        queued = asyncio.create_task(client.post("/api/generate", json=body))
        await ollama_double.wait_for_async(lambda r: r.phase == "queued")
        queued.cancel()
        record = await ollama_double.wait_for_async(lambda r: r.disconnected)
        assert (record.status, record.chunks_sent) == (499, 0)
        assert (await first).status_code == 200
    assert ollama_double.requests_to("/api/generate")[0].disconnected is False


def test_wait_for_times_out_listing_records(http, ollama_double) -> None:
    http.get("/api/tags")
    with pytest.raises(TimeoutError, match=r"(?s)within 0.05s.*#1 GET /api/tags -> 200"):
        ollama_double.wait_for(lambda r: r.path == "/never", timeout=0.05)


def test_records_are_copies_and_can_be_reset(http, ollama_double) -> None:
    post(http, "/api/generate", {"model": CODELLAMA, "prompt": "x"})
    (record,) = ollama_double.requests
    record.status = 999
    assert ollama_double.requests[0].status == 200
    assert record.started <= record.first_byte_at <= record.finished
    ollama_double.reset_records()
    assert ollama_double.requests == []


def test_wait_for_wakes_on_updates_from_the_server_thread(ollama_double) -> None:
    ollama_double.latency.first_token_s = 0.1
    result: list[Any] = []
    worker = threading.Thread(
        target=lambda: result.append(
            httpx.post(
                f"{ollama_double.url}/api/generate", json={"model": CODELLAMA, "prompt": "x"}
            )
        )
    )
    worker.start()
    record = ollama_double.wait_for(lambda r: r.phase == "streaming", timeout=2)
    assert record.first_byte_at is None
    done = ollama_double.wait_for(lambda r: r.done, timeout=2)
    worker.join()
    assert done.chunks_sent == 11 and result[0].status_code == 200


def test_stop_does_not_hang_on_open_streams() -> None:
    double = OllamaDouble().start()
    double.inject_fault("hang", after_chunks=1)
    client = httpx.Client(base_url=double.url, timeout=5)
    try:
        with client.stream(
            "POST", "/api/generate", json={"model": CODELLAMA, "prompt": "x"}
        ) as response:
            next(response.iter_lines())
            started = time.monotonic()
            double.stop()
            assert time.monotonic() - started < 3
    except httpx.TransportError:
        pass  # the stream ends abruptly; the point is that stop() returned
    finally:
        client.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{double.host}/", timeout=1)


def test_runs_by_hand_and_logs_requests() -> None:
    command = [sys.executable, "-m", "tests.ollama_double", "--port", "0", "--answer", "hi"]
    command += ["--install", "tinyllama:latest"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            banner = process.stderr.readline()
            url = re.search(r"listening on (http://\S+) with tinyllama:latest", banner)
            assert url, banner
            body = {"model": "tinyllama", "prompt": "x", "stream": False}
            assert httpx.post(f"{url[1]}/api/generate", json=body).json()["response"] == "hi"
            assert "POST /api/generate -> 200" in process.stderr.readline()
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
