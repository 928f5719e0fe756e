"""The completion engine with an in-memory provider: calls, cache, typing-through,
debounce, in-flight sharing, cancellation, time bounds, faults and warm-up."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from ollama_lsp.completion.engine import CompletionEngine, Query
from ollama_lsp.ollama.errors import ModelNotFound, OllamaHTTPError, OllamaUnreachable
from ollama_lsp.settings import DEFAULT_MODEL, CompletionSettings, Settings

from .fakes import FakeProvider, RecordingListener

URI = "file:///project/calc.py"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
CURSOR = DOC.index("    \n") + 4


def make_engine(
    provider: FakeProvider, *, indent: str = "    ", **completion
) -> tuple[CompletionEngine, RecordingListener]:
    """An engine for ``DOC``, whose cursor line is indented by ``indent``."""
    provider.indent = indent
    defaults = {"debounce_ms": 0, "timeout_ms": 2000, "prefill": False, "speculate": False}
    settings = Settings(completion=CompletionSettings(**{**defaults, **completion}))
    listener = RecordingListener()
    return CompletionEngine(provider, settings, listener=listener), listener


def query(text: str = DOC, offset: int = CURSOR, *, invoked: bool = False) -> Query:
    before = text[:offset].split("\n")
    return Query(
        uri=URI,
        lines=text.split("\n"),
        line=len(before) - 1,
        column=len(before[-1]),
        invoked=invoked,
        path="/project/calc.py",
    )


def typed(chars: str) -> Query:
    """The document after the user typed ``chars`` at the cursor."""
    return query(DOC[:CURSOR] + chars + DOC[CURSOR:], CURSOR + len(chars))


async def test_asks_the_model_with_exact_fim_fields() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    assert await engine.complete(query()) == "return a + b"
    (request,) = provider.requests
    assert request.model == DEFAULT_MODEL
    assert request.raw and request.suffix is None
    assert request.prompt == f"<PRE> {DOC[:CURSOR]} <SUF>{DOC[CURSOR:]} <MID>"
    assert "<EOT>" in request.stop
    assert request.num_ctx == 4096


async def test_num_ctx_is_capped_by_the_model_and_constant() -> None:
    provider = FakeProvider(context_window=2048)
    engine, _ = make_engine(provider)
    await engine.complete(query())
    await engine.complete(typed("x = "))
    assert {r.num_ctx for r in provider.requests} == {2048}


async def test_same_request_again_is_a_cache_hit() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    first = await engine.complete(query())
    assert await engine.complete(query()) == first
    assert len(provider.requests) == 1
    assert engine.cache.hits == 1


async def test_closing_a_document_forgets_its_cached_answers_only() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    other = dataclasses.replace(query(), uri="file:///project/other.py", path=None)
    await engine.complete(query())
    await engine.complete(dataclasses.replace(other, lines=[*DOC.split("\n"), "# other"]))
    engine.close_document(URI)
    await engine.complete(query())  # reopened: asked again
    await engine.complete(dataclasses.replace(other, lines=[*DOC.split("\n"), "# other"]))
    assert len(provider.requests) == 3
    assert engine.cache.hits == 1


async def test_requests_carry_their_documents_uri_as_affinity() -> None:
    """A pool of hosts sends a document to the host whose prompt cache holds its prompt."""
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    await engine.complete(query())
    await engine.complete(dataclasses.replace(typed("x = "), uri="file:///project/b.py"))
    assert [r.affinity for r in provider.requests] == [URI, "file:///project/b.py"]


async def test_typing_through_serves_the_rest_without_a_call() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    assert await engine.complete(query()) == "return a + b"
    assert await engine.complete(typed("r")) == "eturn a + b"
    assert await engine.complete(typed("re")) == "turn a + b"
    assert await engine.complete(typed("ret")) == "urn a + b"
    assert len(provider.requests) == 1
    assert engine.cache.typed == 3


async def test_typing_something_else_asks_again() -> None:
    provider = FakeProvider()
    provider.responses = ["return a + b", "a - b"]
    engine, _ = make_engine(provider)
    await engine.complete(query())
    assert await engine.complete(typed("(")) == "a - b"
    assert len(provider.requests) == 2


async def test_debounce_supersedes_older_request_which_is_answered_empty() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, debounce_ms=200)
    older = asyncio.create_task(engine.complete(query()))
    # once the profile is asked for, nothing awaits before the debounce wait: it is there
    await asyncio.wait_for(provider.capabilities_asked.wait(), 2)
    newer = await engine.complete(typed("("))
    assert await older == ""
    assert newer == "return a + b"
    assert len(provider.requests) == 1
    assert engine.stats.superseded == 1


@pytest.mark.parametrize(("adaptive", "calls"), [(True, 1), (False, 2)])
async def test_adaptive_debounce_waits_out_a_typist_mid_word(adaptive: bool, calls: int) -> None:
    """Mid-word the wait is a multiple of the typing gap, well above a 20 ms floor."""
    provider = FakeProvider()
    engine, _ = make_engine(
        provider, debounce_ms=20, max_debounce_ms=2000, adaptive_debounce=adaptive
    )
    first = asyncio.create_task(engine.complete(typed("ret")))
    await asyncio.sleep(0.15)  # the typing gap itself is what the adaptive debounce measures
    await engine.complete(typed("ret("))  # a new prompt (mid-word ones heal to the same)
    await first
    assert len(provider.generations) == calls


async def test_invoked_request_skips_debounce() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, debounce_ms=5000, timeout_ms=10000)
    result = await asyncio.wait_for(engine.complete(query(invoked=True)), 1.0)
    assert result == "return a + b"


async def test_typing_during_a_flight_follows_it() -> None:
    provider = FakeProvider()
    provider.token_s = 0.02
    engine, _ = make_engine(provider)
    first = asyncio.create_task(engine.complete(query()))
    await asyncio.wait_for(provider.streaming.wait(), 2)
    second = await engine.complete(typed("ret"))
    assert second == "urn a + b"
    assert await first == ""  # superseded, but answered
    assert len(provider.requests) == 1
    assert engine.stats.followed == 1


async def test_diverging_typing_cancels_the_flight_and_asks_again() -> None:
    provider = FakeProvider()
    provider.default = "return a + b + c + d + e + f + g"
    provider.token_s = 0.02
    engine, _ = make_engine(provider)
    first = asyncio.create_task(engine.complete(query()))
    await asyncio.wait_for(provider.streaming.wait(), 2)
    provider.responses = ["pass"]
    assert await engine.complete(typed("(")) == "pass"
    assert await first == ""
    assert provider.closed_early == 1
    assert len(provider.requests) == 2


async def test_cancelling_the_request_closes_the_stream() -> None:
    provider = FakeProvider()
    provider.default = " ".join(["word"] * 100)
    provider.token_s = 0.01
    engine, _ = make_engine(provider, multiline="always")
    task = asyncio.create_task(engine.complete(query()))
    await asyncio.wait_for(provider.streaming.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(provider.closed.wait(), 1)
    assert provider.tokens_sent < 100


async def test_a_hanging_model_is_bounded_and_closed() -> None:
    provider = FakeProvider()
    provider.first_token_s = 30
    engine, _ = make_engine(provider, timeout_ms=200)
    assert await asyncio.wait_for(engine.complete(query()), 2) == ""
    await asyncio.wait_for(provider.closed.wait(), 1)
    assert engine.stats.timeouts == 1


async def test_stream_is_closed_once_the_suggestion_is_complete() -> None:
    provider = FakeProvider()
    provider.default = "return a + b\n\ndef sub(a, b):\n    return a - b\n" * 20
    engine, _ = make_engine(provider)
    one_line = query(DOC, DOC.index("(") + 1)  # mid-line: single-line mode
    result = await engine.complete(one_line)
    assert "\n" not in result
    assert provider.closed_early == 1


async def test_unreachable_is_reported_then_recovery() -> None:
    provider = FakeProvider()
    provider.fail = OllamaUnreachable("http://127.0.0.1:9")
    engine, listener = make_engine(provider)
    assert await engine.complete(query()) == ""
    assert await engine.complete(typed("(")) == ""
    assert [e for e, _ in listener.events] == ["unreachable", "unreachable"]
    provider.fail = None
    assert await engine.complete(typed("((")) == "return a + b"
    assert listener.events[-1] == ("reachable", "")


async def test_model_missing_and_other_faults_answer_empty_and_keep_serving() -> None:
    provider = FakeProvider()
    engine, listener = make_engine(provider)
    provider.fail = ModelNotFound(DEFAULT_MODEL)
    assert await engine.complete(query()) == ""
    provider.fail = OllamaHTTPError(500, "boom", what="generate")
    assert await engine.complete(typed("(")) == ""
    provider.fail = None
    assert await engine.complete(typed("((")) == "return a + b"
    kinds = [e for e, _ in listener.events]
    assert kinds[:2] == ["model_missing", "failed"]


async def test_failed_results_are_not_cached() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    provider.fail = OllamaHTTPError(500, "boom", what="generate")
    assert await engine.complete(query()) == ""
    provider.fail = None
    assert await engine.complete(query()) == "return a + b"


async def test_warm_up_loads_with_the_completion_num_ctx() -> None:
    provider = FakeProvider(context_window=16384)
    engine, _ = make_engine(provider, context_tokens=8192)
    await engine.warm_up()
    assert provider.loads == [(DEFAULT_MODEL, 8192)]


async def test_completion_during_a_long_load_answers_empty_without_a_call() -> None:
    provider = FakeProvider()
    provider.load_s = 30
    engine, _ = make_engine(provider, timeout_ms=300)
    warm = engine.warm_up()
    assert await engine.complete(query()) == ""
    assert provider.requests == []
    assert not warm.done()  # the keystroke did not kill the load
    warm.cancel()


async def test_completion_waits_for_a_short_load() -> None:
    provider = FakeProvider()
    provider.load_s = 0.05
    engine, _ = make_engine(provider)
    engine.warm_up()
    assert await engine.complete(query()) == "return a + b"


async def test_settings_change_rebuilds_cache() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    await engine.complete(query())
    engine.configure(dataclasses.replace(engine.settings, model="qwen2.5-coder:1.5b-base"))
    provider.responses = ["other"]
    assert await engine.complete(query()) == "other"
    assert provider.requests[-1].model == "qwen2.5-coder:1.5b-base"
