"""The double's ``logprobs``/``top_logprobs``, scripted engine: Ollama's rules, shapes and
field order (``tests/ollama_double/logprobs.py``), read back by the official ``ollama`` client."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ollama import AsyncClient, Client

from tests.ollama_double import OllamaDouble
from tests.ollama_double.engines.scripted import scripted_alternatives
from tests.ollama_double.logprobs import Pending, go_text, logprob_entry

CODELLAMA = "codellama:7b-code"
TINYLLAMA = "tinyllama:1.1b-chat-v1-q4_0"


@pytest.fixture
def http(ollama_double: OllamaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ollama_double.url, timeout=30) as client:
        yield client


def stream(http: httpx.Client, path: str = "/api/generate", **body: Any) -> list[dict]:
    body.setdefault("model", CODELLAMA)
    if path == "/api/generate":
        body.setdefault("prompt", "x")
        body.setdefault("raw", True)
    with http.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line) for line in response.iter_lines()]


def tokens(line: dict) -> list[str]:
    return [e["token"] for e in line.get("logprobs", [])]


# --- pure rules ------------------------------------------------------------------------------


def test_go_text_replaces_each_invalid_byte() -> None:
    assert go_text("é".encode()) == "é"
    assert go_text(b"\xe2\x80") == "\ufffd\ufffd"  # Go: one U+FFFD per byte, not per sequence
    assert go_text(b"a\xffb") == "a\ufffdb"


def test_entry_shape_is_ollamas() -> None:
    entry = logprob_entry("<a", -0.5, [("<a", -0.5), ("", -2.0)])
    assert list(entry) == ["token", "logprob", "bytes", "top_logprobs"]
    assert entry["bytes"] == [60, 97]
    assert entry["top_logprobs"][1] == {"token": "", "logprob": -2.0}  # bytes: omitempty


def test_pending_after_a_cut_keeps_tokens_that_start_before_it() -> None:
    pending = Pending()
    for text in ("abc", " ", "def"):
        pending.push(text, {"token": text})
    assert pending.release("") == []  # held back
    assert pending.release("ab", stopped=True) == [{"token": "abc"}]


def test_scripted_alternatives_are_distinct_and_start_with_the_token() -> None:
    alternatives = scripted_alternatives("return", 20)
    assert alternatives[:4] == ["return", " return", "Return", "ret"]
    assert len(set(alternatives)) == 20
    assert scripted_alternatives("\n", 3) == ["\n", " ", "("]  # no variants: fillers


# --- over HTTP -------------------------------------------------------------------------------


def test_only_logprobs_true_turns_them_on(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("return a")
    assert not any("logprobs" in line for line in stream(http, top_logprobs=5))
    lines = stream(http, logprobs=True)
    assert [tokens(line) for line in lines] == [["return"], [" "], ["a"], []]
    assert all("top_logprobs" not in e for line in lines for e in line.get("logprobs", []))


def test_top_logprobs_per_token(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("return a")
    first, *_ = stream(http, logprobs=True, top_logprobs=4)
    (entry,) = first["logprobs"]
    assert list(first) == ["model", "created_at", "response", "done", "logprobs"]
    top = entry["top_logprobs"]
    assert [t["token"] for t in top] == ["return", " return", "Return", "ret"]
    assert entry["logprob"] == top[0]["logprob"]
    values = [t["logprob"] for t in top]
    assert values == sorted(values, reverse=True) and sum(map(math.exp, values)) < 1
    assert all(t["bytes"] == list(t["token"].encode()) for t in top)


def test_a_test_can_rank_a_tokens_alternatives(http: httpx.Client, ollama_double) -> None:
    """A sample from outside the top N (temperature) is reported below them, as Ollama does."""
    ollama_double.script("result = 1")
    ollama_double.rank("result", ["return", "res", "r"])
    first, *_ = stream(http, logprobs=True, top_logprobs=2)
    (entry,) = first["logprobs"]
    assert [t["token"] for t in entry["top_logprobs"]] == ["return", "res"]
    assert entry["token"] == "result" and entry["logprob"] < entry["top_logprobs"][-1]["logprob"]
    ollama_double.rank("result", ["x", "result"])
    (entry,) = stream(http, logprobs=True, top_logprobs=5)[0]["logprobs"]
    assert [t["token"] for t in entry["top_logprobs"]] == ["x", "result"]
    assert entry["logprob"] == entry["top_logprobs"][1]["logprob"]


def test_held_back_text_brings_its_tokens_later(http: httpx.Client, ollama_double) -> None:
    """``<`` and ``EO`` may start the stop string ``<EOT>``: they wait, then go out with the
    token that rules it out; the tokens of the stop string itself are never reported."""
    ollama_double.script("ab <EO x<EOT> c")
    lines = stream(http, logprobs=True, options={"stop": ["<EOT>"]})
    assert [(line["response"], tokens(line)) for line in lines[:-1]] == [
        ("ab", ["ab"]), (" ", [" "]), ("<EO ", ["<", "EO", " "]), ("x", ["x"]),
    ]  # fmt: skip
    assert lines[-1]["done"] and "logprobs" not in lines[-1]


def test_a_cut_token_keeps_its_entry(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("abc def")
    lines = stream(http, logprobs=True, options={"stop": ["c d"]})
    assert [(line["response"], tokens(line)) for line in lines[:-1]] == [("ab", ["abc"])]


def test_not_streamed_carries_all_in_ollamas_field_order(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("return a")
    body = {"model": CODELLAMA, "prompt": "x", "stream": False, "logprobs": True}
    generated = http.post("/api/generate", json=body).json()
    assert tokens(generated) == ["return", " ", "a"]
    assert list(generated)[-1] == "logprobs"  # GenerateResponse: after the metrics
    messages = [{"role": "user", "content": "hi"}]
    chat = http.post("/api/chat", json={"model": TINYLLAMA, "messages": messages,
                                        "stream": False, "logprobs": True}).json()  # fmt: skip
    keys = list(chat)
    assert keys.index("done_reason") < keys.index("logprobs") < keys.index("total_duration")
    assert "".join(tokens(chat)) == chat["message"]["content"]


def test_tokens_are_go_encoded(http: httpx.Client, ollama_double) -> None:
    ollama_double.script("<EOT>")
    with http.stream("POST", "/api/generate", json={"model": CODELLAMA, "prompt": "x",
                                                    "raw": True, "logprobs": True}) as r:  # fmt: skip
        first = next(r.iter_lines())
    assert '"token":"\\u003c"' in first


# --- the official client ---------------------------------------------------------------------


def test_official_client_reads_them(ollama_double: OllamaDouble) -> None:
    ollama_double.script("return a")
    client = Client(host=ollama_double.url)
    try:
        parts = list(client.generate(model=CODELLAMA, prompt="x", raw=True, stream=True,
                                     logprobs=True, top_logprobs=3))  # fmt: skip
        whole = client.generate(model=CODELLAMA, prompt="x", raw=True, logprobs=True)
    finally:
        client._client.close()
    first = parts[0].logprobs[0]
    assert first.token == "return" and first.logprob < 0
    assert [t.token for t in first.top_logprobs or []] == ["return", " return", "Return"]
    assert [lp.token for lp in whole.logprobs or []] == ["return", " ", "a"]


async def test_official_async_client_reads_chat_logprobs(ollama_double: OllamaDouble) -> None:
    ollama_double.script("Hi there")
    client = AsyncClient(host=ollama_double.host)
    try:
        parts = [
            p
            async for p in await client.chat(
                model=TINYLLAMA, messages=[{"role": "user", "content": "hi"}], stream=True,
                logprobs=True, top_logprobs=2,
            )
        ]  # fmt: skip
    finally:
        await client._client.aclose()
    assert [lp.token for p in parts for lp in p.logprobs or []] == ["Hi", " ", "there"]
    assert all(len(lp.top_logprobs or []) == 2 for p in parts for lp in p.logprobs or [])
