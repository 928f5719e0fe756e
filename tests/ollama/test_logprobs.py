"""``logprobs``/``top_logprobs``: what the client sends, how it parses Ollama's answer, and the
provider's ``alternatives`` (guided token healing steers with them)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from ollama_lsp.ollama.client import OllamaClient
from ollama_lsp.ollama.provider import OllamaProvider
from ollama_lsp.ollama.types import MAX_TOP_LOGPROBS, GenerateChunk, Logprob, TokenLogprob
from ollama_lsp.provider import CodeCompletionRequest

from .hostile import Received, chunk, end_chunked, hostile_server, start_chunked

CODELLAMA = "codellama:7b-code"


@pytest.fixture
async def client(ollama_double) -> AsyncIterator[OllamaClient]:
    c = OllamaClient(ollama_double.host)
    yield c
    await c.aclose()


def lines_answer(*lines: dict):
    """A server that streams ``lines`` as NDJSON whatever it is asked."""

    async def answer(request: Received, writer) -> None:
        await start_chunked(writer)
        for line in lines:
            await chunk(writer, json.dumps(line).encode() + b"\n")
        await end_chunked(writer)

    return answer


def entry(token: str, logprob: float, top: list[tuple[str, float]] | None = None) -> dict:
    out: dict = {"token": token, "logprob": logprob, "bytes": list(token.encode())}
    if top is not None:
        out["top_logprobs"] = [{"token": t, "logprob": lp} for t, lp in top]
    return out


# --- the request -----------------------------------------------------------------------------


async def test_fields_are_sent_only_when_asked(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("return x")
    async for _ in client.generate_stream(CODELLAMA, "a", raw=True):
        pass
    async for _ in client.generate_stream(CODELLAMA, "a", raw=True, top_logprobs=5):
        pass
    async for _ in client.generate_stream(CODELLAMA, "a", raw=True, logprobs=True):
        pass
    plain, top, only = (r.body for r in ollama_double.requests_to("/api/generate"))
    assert "logprobs" not in plain and "top_logprobs" not in plain
    assert top["logprobs"] is True and top["top_logprobs"] == 5  # top level, not options
    assert "logprobs" not in top.get("options", {})
    assert only["logprobs"] is True and "top_logprobs" not in only


# --- parsing what the double (Ollama's shapes) sends ----------------------------------------


async def test_stream_chunks_carry_their_tokens(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("return a + b")
    chunks = [c async for c in client.generate_stream(CODELLAMA, "a", raw=True, top_logprobs=3)]
    *pieces, done = chunks
    assert done.done and not done.logprobs  # the done line carries none
    for piece in pieces:
        assert "".join(lp.token for lp in piece.logprobs) == piece.response
    first = pieces[0].logprobs[0]
    assert first.token == "return"
    assert [t.token for t in first.top_logprobs] == ["return", " return", "Return"]
    assert first.top_logprobs[0].logprob == first.logprob < 0


async def test_not_streamed_has_every_token(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("return a + b")
    answer = await client.generate(CODELLAMA, "a", raw=True, logprobs=True)
    assert "".join(lp.token for lp in answer.logprobs) == "return a + b"
    assert all(not lp.top_logprobs for lp in answer.logprobs)


# --- odd values ------------------------------------------------------------------------------


def test_no_logprobs_field_or_junk_gives_none() -> None:
    for value in (None, "x", 3, {"token": "a"}, [None, 1, "a", []]):
        assert GenerateChunk.from_json({"response": "a", "logprobs": value}).logprobs == ()
    assert GenerateChunk.from_json({"response": "a"}).logprobs == ()


@pytest.mark.parametrize(
    "bad", [{"logprob": -1.0}, {"token": 3, "logprob": -1.0}, {"token": "a"},
            {"token": "a", "logprob": "-1"}, {"token": "a", "logprob": True},
            {"token": "a", "logprob": 0.5}, {"token": "a", "logprob": math.nan},
            {"token": "a", "logprob": -math.inf}],
)  # fmt: skip
def test_entries_without_a_sane_token_or_logprob_are_dropped(bad: dict) -> None:
    good = entry("b", -0.25, [("b", -0.25), ("c", -2)])
    chunk_ = GenerateChunk.from_json({"response": "ab", "logprobs": [bad, good]})
    assert chunk_.logprobs == (
        Logprob("b", -0.25, (TokenLogprob("b", -0.25), TokenLogprob("c", -2.0))),
    )
    nested = GenerateChunk.from_json({"logprobs": [entry("b", -0.25) | {"top_logprobs": [bad]}]})
    assert nested.logprobs == (Logprob("b", -0.25),)


def test_alternatives_are_ranked_and_include_the_sampled_token() -> None:
    sampled_outside = Logprob.from_json(
        entry(" x", -4.0, [(" b", -2.0), (" a", -0.5), (" c", -3.0), (" a", -0.5)])
    )
    assert sampled_outside is not None
    assert sampled_outside.alternatives() == (" a", " b", " c", " x")
    assert Logprob(" x", -1.0).alternatives() == ()  # no top_logprobs: nothing to rank


def test_top_logprobs_are_capped() -> None:
    many = [(f"t{i}", -1.0 - i) for i in range(500)]
    parsed = Logprob.from_json(entry("t0", -1.0, many))
    assert parsed is not None and len(parsed.top_logprobs) == MAX_TOP_LOGPROBS


# --- the provider ----------------------------------------------------------------------------


def healing_step(top_logprobs: int = 20) -> CodeCompletionRequest:
    return CodeCompletionRequest(
        model=CODELLAMA, prompt="<PRE> x <SUF> <MID>", raw=True, max_tokens=1,
        temperature=0.0, top_logprobs=top_logprobs,
    )  # fmt: skip


async def test_provider_maps_top_logprobs_to_alternatives(ollama_double) -> None:
    ollama_double.script("return a")
    client = OllamaClient(ollama_double.host)
    try:
        provider = OllamaProvider(client)
        chunks = [c async for c in provider.complete_code(healing_step(top_logprobs=50))]
    finally:
        await client.aclose()
    first = chunks[0]
    assert first.text == "return"
    assert first.alternatives[:4] == ("return", " return", "Return", "ret")
    assert len(first.alternatives) == 20  # capped at Ollama's limit instead of a 400
    (request,) = ollama_double.requests_to("/api/generate")
    assert request.body["top_logprobs"] == 20 and request.status == 200
    assert chunks[-1].done and chunks[-1].alternatives == ()


async def test_provider_without_top_logprobs_asks_for_none(ollama_double) -> None:
    ollama_double.script("return a")
    client = OllamaClient(ollama_double.host)
    try:
        chunks = [c async for c in OllamaProvider(client).complete_code(healing_step(0))]
    finally:
        await client.aclose()
    assert all(c.alternatives == () for c in chunks)
    (request,) = ollama_double.requests_to("/api/generate")
    assert "logprobs" not in request.body and "top_logprobs" not in request.body


async def test_provider_sums_each_chunks_logprobs_when_asked(ollama_double) -> None:
    ollama_double.script("return a")
    client = OllamaClient(ollama_double.host)
    try:
        step = replace(healing_step(0), max_tokens=8, logprobs=True)
        chunks = [c async for c in OllamaProvider(client).complete_code(step)]
    finally:
        await client.aclose()
    texts = [c for c in chunks if c.text]
    assert texts and all(c.logprob is not None and c.logprob <= 0 for c in texts)
    (request,) = ollama_double.requests_to("/api/generate")
    assert request.body["logprobs"] is True and "top_logprobs" not in request.body


async def test_provider_ranks_what_the_server_sends() -> None:
    """Ollama ranks the raw distribution; a sampled token outside its top N still counts."""
    answer = lines_answer(
        {"response": "re", "done": False,
         "logprobs": [entry("re", -3.0, [("ret", -1.5), ("return", -0.5)])]},
        {"response": "", "done": True, "done_reason": "length", "eval_count": 1},
    )  # fmt: skip
    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            chunks = [c async for c in OllamaProvider(client).complete_code(healing_step())]
        finally:
            await client.aclose()
    assert chunks[0].alternatives == ("return", "ret", "re")


async def test_older_ollama_ignores_the_fields() -> None:
    """Before v0.12.11 Ollama drops unknown fields: no logprobs, so no alternatives."""
    answer = lines_answer(
        {"response": "return", "done": False},
        {"response": "", "done": True, "done_reason": "length", "eval_count": 1},
    )
    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            chunks = [c async for c in OllamaProvider(client).complete_code(healing_step())]
        finally:
            await client.aclose()
    assert [c.text for c in chunks] == ["return", ""]
    assert all(c.alternatives == () for c in chunks)
    body = json.loads(server.received[0].body)
    assert body["logprobs"] is True and body["top_logprobs"] == 20
