"""The OpenAI wire rules on their own: routes, bodies, SSE lines, error bodies, chunk parsing."""

from __future__ import annotations

import httpx
import pytest

from ollama_lsp.openai import wire
from ollama_lsp.openai.errors import (
    ContextExceeded,
    ModelNotServed,
    OpenAIHTTPError,
    OpenAIRedirect,
    RouteMissing,
)
from ollama_lsp.openai.types import chat_delta, completion_chunk, model_listing
from ollama_lsp.provider.errors import CredentialsRejected

HOST = "http://gpu:8000"


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("http://gpu:8000", "/v1/completions"),
        ("http://gpu:8000/v1", "/completions"),
        ("http://gpu:8000/v1/", "/completions"),
        ("http://gpu:8000/llama", "/v1/completions"),
        ("http://gpu:8000/llama/v1", "/completions"),
    ],
)
def test_v1_is_added_once(base: str, path: str) -> None:
    assert wire.api_path(base, "/completions") == path


def test_completion_body_sends_only_what_is_asked() -> None:
    body = wire.completion_body(
        "m", "<PRE> a <SUF>b <MID>", suffix=None, max_tokens=64, temperature=0.2, top_p=None,
        stop=(), logprobs=0, include_usage=False,
    )  # fmt: skip
    assert body == {
        "model": "m",
        "prompt": "<PRE> a <SUF>b <MID>",
        "max_tokens": 64,
        "temperature": 0.2,
        "stream": True,
    }
    full = wire.completion_body(
        "m", "a", suffix="b", max_tokens=8, temperature=0.0, top_p=0.9, stop=("<EOT>", "\n\n"),
        logprobs=5, include_usage=True,
    )  # fmt: skip
    assert full["suffix"] == "b" and full["top_p"] == 0.9
    assert full["stop"] == ["<EOT>", "\n\n"] and full["logprobs"] == 5
    assert full["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("line", "data"),
    [
        (b'data: {"a": 1}', b'{"a": 1}'),
        (b'data:{"a": 1}\r', b'{"a": 1}'),
        (b"data: [DONE]", b"[DONE]"),
        (b": ping - 2026-12-04 20:00:00", None),
        (b"event: message", None),
        (b"id: 3", None),
        (b"garbage", None),
    ],
)
def test_sse_lines(line: bytes, data: bytes | None) -> None:
    assert wire.sse_data(line) == data


def _check(status: int, content: bytes, *, model: str | None = "m", **headers: str) -> None:
    response = httpx.Response(status, headers=headers, content=content)
    wire.check_status(HOST, response, content, what="the completion request",
                      path="/v1/completions", model=model)  # fmt: skip


def test_2xx_passes() -> None:
    _check(200, b"{}")


def test_llama_cpp_context_error_is_typed() -> None:
    body = (
        b'{"error":{"message":"This model\'s maximum context length is 2048 tokens, however you '
        b'requested 3005 tokens","type":"invalid_request_error","param":"messages",'
        b'"code":"context_length_exceeded"}}'
    )
    with pytest.raises(ContextExceeded) as caught:
        _check(400, body)
    assert caught.value.status == 400
    assert "2048 tokens" in caught.value.message and "--n_ctx" in caught.value.message
    assert "contextTokens" in caught.value.message


def test_llama_servers_context_error_is_context_exceeded() -> None:
    body = (
        b'{"error":{"code":400,"message":"request (9001 tokens) exceeds the available context '
        b'size (8192 tokens), try increasing it","type":"exceed_context_size_error",'
        b'"n_prompt_tokens":9001,"n_ctx":8192}}'
    )
    with pytest.raises(ContextExceeded) as caught:
        _check(400, body)
    assert "8192 tokens" in caught.value.message and "contextTokens" in caught.value.message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        # OpenAI's own answer
        (404, b'{"error":{"message":"The model \'x\' does not exist","code":"model_not_found"}}'),
        # vLLM's
        (404, b'{"error":{"object":"error","message":"The model `x` does not exist.",'
              b'"type":"NotFoundError","code":404}}'),
        (400, b'{"error":{"message":"bad","type":"invalid_request_error","code":"model_not_found"}}'),
    ],
)  # fmt: skip
def test_unknown_model_answers_are_typed(status: int, body: bytes) -> None:
    with pytest.raises(ModelNotServed) as caught:
        _check(status, body, model="x")
    assert caught.value.model == "x" and caught.value.status == status


def test_a_404_for_the_route_says_where_to_point() -> None:
    with pytest.raises(RouteMissing) as caught:
        _check(404, b'{"detail":"Not Found"}')
    message = caught.value.message
    assert "/v1/completions" in message and "ollama.host" in message and HOST in message
    assert caught.value.status == 404


def test_5xx_carries_its_status_and_the_servers_text() -> None:
    body = b'{"error":{"message":"CUDA out of memory","type":"internal_server_error"}}'
    with pytest.raises(OpenAIHTTPError) as caught:
        _check(500, body)
    assert caught.value.status == 500
    assert "CUDA out of memory" in caught.value.message and HOST in caught.value.message


def test_non_json_error_text_is_kept() -> None:
    with pytest.raises(OpenAIHTTPError) as caught:
        _check(502, b"<html>Bad Gateway</html>")
    assert caught.value.status == 502 and "Bad Gateway" in caught.value.message


@pytest.mark.parametrize("status", [401, 403])
def test_credentials_rejected(status: int) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        _check(status, b'{"detail":"Invalid API key"}')
    assert caught.value.status == status and "ollama.headers" in caught.value.message


def test_redirects_are_errors_that_hide_passwords() -> None:
    with pytest.raises(OpenAIRedirect) as caught:
        _check(302, b"", location="http://user:hunter2@elsewhere/v1")
    assert "hunter2" not in caught.value.message and "elsewhere" in caught.value.message


def test_alternatives_most_probable_first() -> None:
    # llama_cpp.server: the top N in order, then the sampled token appended if not among them
    data = {
        "choices": [
            {
                "text": " return",
                "index": 0,
                "logprobs": {
                    "tokens": [" return"],
                    "top_logprobs": [{" if": -1.74, " fib": -2.11, " return": -1.78}],
                },
                "finish_reason": None,
            }
        ]
    }
    parsed = completion_chunk(data)
    assert parsed.text == " return" and parsed.finish_reason == ""
    assert parsed.alternatives == (" if", " return", " fib")


def test_alternatives_in_llama_servers_chat_style_logprobs() -> None:
    # llama.cpp's llama-server answers /v1/completions' logprobs in the chat shape
    top = [
        {"id": 470, "token": " return", "logprob": -0.2, "bytes": [32]},
        {"id": 421, "token": " if", "logprob": -2.5, "bytes": [32]},
        {"id": 9, "token": "*", "logprob": -1.1, "bytes": [42]},
        {"id": 3, "token": 5, "logprob": -0.1},
        "junk",
    ]
    data = {
        "choices": [
            {
                "text": " return",
                "index": 0,
                "logprobs": {
                    "content": [
                        {"id": 470, "token": " return", "logprob": -0.2, "top_logprobs": top}
                    ]
                },
                "finish_reason": None,
            }
        ]
    }
    assert completion_chunk(data).alternatives == (" return", "*", " if")
    data["choices"][0]["logprobs"] = {"content": [{"token": " return", "top_logprobs": None}]}
    assert completion_chunk(data).alternatives == ()


def test_senseless_values_are_dropped() -> None:
    data = {
        "choices": [
            {
                "text": 7,
                "logprobs": {"top_logprobs": [{"a": 0.5, "b": "x", "c": -1.0, "d": True}]},
                "finish_reason": 3,
            }
        ],
        "usage": {"prompt_tokens": -1, "completion_tokens": 12},
    }
    parsed = completion_chunk(data)
    assert parsed.text == "" and parsed.finish_reason == "" and parsed.alternatives == ("c",)
    assert parsed.usage is not None
    assert parsed.usage.prompt_tokens is None and parsed.usage.completion_tokens == 12
    assert completion_chunk({"choices": "no"}) == completion_chunk({})


def test_usage_chunk_without_choices() -> None:
    parsed = completion_chunk(
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    )
    assert parsed.text == "" and parsed.usage is not None and parsed.usage.prompt_tokens == 5


def test_usage_says_the_cached_prompt_tokens_when_the_server_does() -> None:
    usage = {"prompt_tokens": 40, "completion_tokens": 1}  # llama-server, vLLM: as OpenAI
    said = completion_chunk({"usage": {**usage, "prompt_tokens_details": {"cached_tokens": 38}}})
    assert said.usage is not None and said.usage.cached_tokens == 38
    for details in (None, {}, {"cached_tokens": -3}, {"cached_tokens": "38"}, [38]):
        odd = completion_chunk({"usage": {**usage, "prompt_tokens_details": details}})
        assert odd.usage is not None and odd.usage.cached_tokens is None, details


def test_model_listing_reads_a_stated_context_only() -> None:
    listing = model_listing(
        {
            "data": [
                {"id": "smollm2:135m", "owned_by": "me", "permissions": []},
                {"id": "qwen", "max_model_len": 32768},
                {"id": "zero", "context_length": 0},
                {"id": "llama-server", "meta": {"n_ctx_train": 8192}},
                {"id": "llama-server -c", "meta": {"n_ctx": 4096, "n_ctx_train": 32768}},
                {"id": "odd meta", "meta": [4096]},
                {"no": "id"},
                "junk",
            ]
        },
        "uvicorn",
    )
    assert listing.ids == (
        "smollm2:135m", "qwen", "zero", "llama-server", "llama-server -c", "odd meta"
    )  # fmt: skip
    assert [m.context_window for m in listing.models] == [None, 32768, None, None, 4096, None]
    assert listing.server == "uvicorn" and listing.get("qwen") is not None
    assert model_listing({"data": None}).models == ()


def test_chat_delta_streamed_and_whole() -> None:
    streamed = {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    assert chat_delta(streamed).content == "Hi"
    whole = {"choices": [{"message": {"role": "assistant", "content": "Hello"},
                          "finish_reason": "stop"}]}  # fmt: skip
    assert chat_delta(whole).content == "Hello" and chat_delta(whole).finish_reason == "stop"


def test_the_sampled_tokens_logprob_in_either_shape() -> None:
    # llama-server: the chat shape, one entry per token of the event
    chat = {"content": [{"token": " re", "logprob": -0.25}, {"token": "turn", "logprob": -0.5}]}
    legacy = {"tokens": [" re", "turn"], "token_logprobs": [-0.25, -0.5]}  # llama_cpp.server, vLLM
    for logprobs in (chat, legacy):
        data = {"choices": [{"text": " return", "index": 0, "logprobs": logprobs}]}
        assert completion_chunk(data).logprob == -0.75
    assert completion_chunk({"choices": [{"text": "x", "index": 0}]}).logprob is None


@pytest.mark.parametrize(
    "logprobs",
    [
        {"content": [{"token": "x", "logprob": 0.5}]},  # not a log-probability
        {"content": [{"token": "x"}]},
        {"content": []},
        {"token_logprobs": [None]},
        {"token_logprobs": "junk"},
        "junk",
    ],
)
def test_a_logprob_that_is_not_one_is_none(logprobs: object) -> None:
    data = {"choices": [{"text": "x", "index": 0, "logprobs": logprobs}]}
    assert completion_chunk(data).logprob is None
