"""The engine against a slow model: windows sized to the latency target, prefill while the
user pauses, late answers landing in the cache, and bounds on a stalled model profile."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ollama_lsp.completion.background import PREFILL_IDLE_S
from ollama_lsp.completion.budget import common_prefix_len
from ollama_lsp.completion.dispatch import CANCEL_GRACE_S
from ollama_lsp.completion.engine import Query
from ollama_lsp.ollama.errors import OllamaUnreachable

from .fakes import FakeProvider
from .test_engine import make_engine, query, typed

URI = "file:///project/big.py"
BIG = "".join(f"def function_{i}(a, b):\n    return a * {i} + b\n\n" for i in range(400))
CURSOR = len(BIG)


def big_query(text: str = BIG, offset: int = CURSOR, *, invoked: bool = True) -> Query:
    before = text[:offset].split("\n")
    return Query(
        uri=URI, lines=text.split("\n"), line=len(before) - 1, column=len(before[-1]),
        invoked=invoked,
    )  # fmt: skip


def slow_provider() -> FakeProvider:
    provider = FakeProvider(insert=False)
    provider.eval_rate = (100.0, 3.0)  # 100 tokens/s, 3 chars a token: 300 chars a second
    provider.default = "x = 1"
    return provider


async def test_a_cold_prompt_is_sized_to_the_latency_target() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=False)
    await engine.complete(big_query())
    (request,) = provider.requests
    affordable = engine._speed(request.model).affordable_chars(1.0)
    assert len(request.prompt) <= affordable + 64
    assert len(request.prompt) < len(BIG) // 4


async def test_a_faster_model_gets_a_bigger_window_once_measured() -> None:
    provider = slow_provider()
    provider.eval_rate = (5000.0, 3.0)
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=False)
    await engine.complete(big_query())
    await engine.complete(big_query(BIG + "(", CURSOR + 1))
    first, second = provider.generations
    assert len(second.prompt) > 3 * len(first.prompt)


async def test_after_a_pause_a_wider_window_is_prefilled_in_steps_then_used() -> None:
    provider = slow_provider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    engine._prefiller.pauses.extend([30.0] * 3)  # a user whose pauses last
    await engine.complete(big_query())
    cold = provider.requests[-1]
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_done.wait()
    steps = provider.requests[1:]
    prefill = steps[-1]
    assert all(step.max_tokens == 1 for step in steps)
    assert len(steps) == engine.stats.prefill_steps > 2
    # one rung up the ladder: about twice the cold window, not the whole context
    assert 1.5 * len(cold.prompt) < len(prefill.prompt) < 3 * len(cold.prompt)
    # each step is a start of the next (the steps' size: test_background.py)
    for a, b in itertools.pairwise(steps):
        assert b.prompt.startswith(a.prompt)
    await engine.complete(big_query(BIG + "z", CURSOR + 1))
    after = provider.requests[-1]
    shared = common_prefix_len(after.prompt, prefill.prompt)
    assert shared >= len(prefill.prompt) - len(" <SUF> <MID>")  # costs only the new text


async def test_a_real_request_waits_only_for_the_running_step() -> None:
    provider = slow_provider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    engine._prefiller.pauses.extend([30.0] * 3)  # a user whose pauses last
    await engine.complete(big_query())
    provider.first_token_s = 0.3  # each step takes a while
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_started.wait()
    sent = len(provider.requests)
    answer = await engine.complete(big_query(BIG + "(", CURSOR + 1))
    assert answer == "x = 1"
    assert provider.closed_early == 0  # the running step was not cut off
    assert len(provider.requests) == sent + 1  # and no step was sent after the request
    assert engine._prefiller.task is not None
    async with asyncio.timeout(2):
        await engine._prefiller.task  # stopped after its running step, it sends nothing more
    assert len(provider.requests) == sent + 1


async def test_in_one_slot_a_prefill_waits_for_a_pause_likely_to_outlast_it() -> None:
    provider = slow_provider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    engine._prefiller.pauses.extend([2.0] * 5)  # the user's recent pauses: 2 s each
    await engine.complete(big_query())
    with pytest.raises(TimeoutError):  # a prefill of ~2 s would be cut off by the next key
        async with asyncio.timeout(1.8):
            await engine.background.prefill_started.wait()
    async with asyncio.timeout(2):  # longer than the recent ones and past READING_S: it lasts
        await engine.background.prefill_started.wait()


async def test_in_one_slot_no_prefill_starts_before_the_users_pauses_are_known() -> None:
    """Cut off by typing, it would take the window held in the slot along: early in a
    session, only a reading pause (``READING_S``) is taken to outlast it."""
    provider = slow_provider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.8):
            await engine.background.prefill_started.wait()


async def test_with_a_spare_slot_the_wider_window_grows_there_and_completions_follow() -> None:
    provider = slow_provider()
    provider.lanes = 2
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query())
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_done.wait()
    cold, *steps = provider.requests
    assert cold.lane == 0 and steps and all(step.lane == 1 for step in steps)
    await engine.complete(big_query(BIG + "z", CURSOR + 1))
    after = provider.requests[-1]
    assert after.lane == 1  # the spare holds the wider window: it is the main slot now
    shared = common_prefix_len(after.prompt, steps[-1].prompt)
    assert shared >= len(steps[-1].prompt) - len(" <SUF> <MID>")


async def test_a_spare_slot_grows_only_in_a_pause_likely_to_see_it_whole() -> None:
    """A prefill is reused or not sent: steps cut off at every short pause while the typing
    grew what was left were never used."""
    provider = slow_provider()
    provider.lanes = 2
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    engine._prefiller.pauses.extend([1.0] * 5)  # the user's recent pauses: 1 s each
    await engine.complete(big_query())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.8):
            await engine.background.prefill_started.wait()
    assert engine.stats.prefill_steps == 0


async def test_a_prefill_cut_off_in_the_spare_slot_costs_the_held_window_nothing() -> None:
    provider = slow_provider()
    provider.lanes = 2
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query())
    cold = provider.requests[-1]
    provider.first_token_s = 0.2
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_started.wait()
    await asyncio.sleep(0.3)  # a step or two, then the user types on
    await engine.complete(big_query(BIG + "(", CURSOR + 1))
    typed_on = provider.requests[-1]
    cut = [r for r in provider.requests if r.max_tokens == 1]
    assert typed_on.lane == 0  # completions stay where the held window is...
    held = engine._meters.memory(cold.model, 0)
    assert held.text.startswith(typed_on.prompt)
    assert common_prefix_len(typed_on.prompt, cold.prompt) >= len(cold.prompt) - 64  # ...cheap
    provider.first_token_s = 0.0
    engine.background.prefill_done.clear()
    async with asyncio.timeout(PREFILL_IDLE_S + 5):
        await engine.background.prefill_done.wait()
    resumed = [r for r in provider.requests[len(cut) + 2 :] if r.max_tokens == 1]
    # the next pause goes on from the last step, in the spare slot
    assert resumed[0].prompt.startswith(cut[-1].prompt) and len(resumed[0].prompt) > len(
        cut[-1].prompt
    )
    assert all(r.lane == 1 for r in resumed)


async def test_the_next_pause_goes_on_with_the_same_wider_window_after_lines_were_typed() -> None:
    """A wider window chosen afresh at each pause slid down with the typing, and its steps
    started again from nothing: in the editor loop no request ever used them."""
    provider = slow_provider()
    provider.lanes = 2
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query())
    provider.first_token_s = 0.2
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_started.wait()
    await asyncio.sleep(0.3)  # a step or two, then the user writes five more functions
    typed = "".join(f"def extra_{i}(a, b):\n    return a - {i}\n\n" for i in range(4))
    for n in range(0, len(typed) + 1, 12):
        await engine.complete(big_query(BIG + typed[:n], CURSOR + n))
    cut = [r for r in provider.requests if r.max_tokens == 1 and not r.top_logprobs]
    sent = len(provider.requests)
    provider.first_token_s = 0.0
    engine.background.prefill_done.clear()
    async with asyncio.timeout(PREFILL_IDLE_S + 5):
        await engine.background.prefill_done.wait()
    resumed = [r for r in provider.requests[sent:] if r.max_tokens == 1 and not r.top_logprobs]
    assert resumed[0].prompt.startswith(cut[-1].prompt)  # on from where it stopped
    assert len(resumed[0].prompt) > len(cut[-1].prompt)
    n = len(typed) - len(typed) % 12
    await engine.complete(big_query(BIG + typed[:n] + "z", CURSOR + n + 1))
    after = provider.requests[-1]
    assert after.lane == 1  # once whole, completions use it
    assert after.prompt.startswith(cut[0].prompt)


async def test_no_wider_window_is_grown_into_a_fragment_of_the_function_above() -> None:
    """A wider window starts at an outer line: in the editor loop, one that began inside the
    function above accepted 64 characters against 88 (``context.OUTER_SHARE``)."""
    long = "".join(f"    a = a * {j} + b\n" for j in range(40))
    text = f"def above(a, b):\n{long}    return a\n\n\ndef current(a, b):\n" + long[:150]
    provider = slow_provider()
    provider.lanes = 2
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query(text, len(text)))
    cold = provider.requests[-1]
    # the next outer line up is ``def current``, where the window starts: nothing to grow
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(PREFILL_IDLE_S + 1):
            await engine.background.prefill_started.wait()
    assert "def above" not in cold.prompt


async def test_a_server_that_drops_our_slot_while_the_spare_runs_gets_one_lane() -> None:
    provider = slow_provider()
    provider.lanes, provider.clears_idle = 2, True  # llama-server's default --cache-idle-slots
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=True)
    await engine.complete(big_query())
    provider.first_token_s = 0.2
    async with asyncio.timeout(PREFILL_IDLE_S + 2):
        await engine.background.prefill_started.wait()
    await asyncio.sleep(0.3)  # cut off after a step or two, in the spare slot
    await engine.complete(big_query(BIG + "(", CURSOR + 1))
    assert provider.requests[-1].lane == 0
    model = provider.requests[-1].model
    assert not engine._meters.spare_kept(model)  # the answer said: nothing came from the cache
    provider.first_token_s = 0.0
    sent = len(provider.requests)
    engine.background.prefill_done.clear()
    async with asyncio.timeout(PREFILL_IDLE_S + 5):
        await engine.background.prefill_done.wait()
    assert all(r.lane == 0 for r in provider.requests[sent:])  # the next prefill: one slot


async def test_a_flowing_generation_that_times_out_lands_in_the_cache() -> None:
    provider = FakeProvider()
    provider.default = "return a + b + c + d"
    provider.token_s = 0.05  # ~9 tokens: ~0.45 s
    engine, _ = make_engine(provider, indent="", timeout_ms=150, prefill=False)
    query = big_query()
    assert await engine.complete(query) == ""
    assert engine.stats.timeouts == 1
    async with asyncio.timeout(3):
        await engine.background.landed_late.wait()
    assert await engine.complete(query) == "return a + b + c + d"
    assert len(provider.requests) == 1


async def test_a_stalled_model_profile_is_bounded_by_the_timeout() -> None:
    provider = FakeProvider()
    provider.capabilities_s = 30.0
    engine, _ = make_engine(provider, indent="", timeout_ms=200)
    async with asyncio.timeout(2):
        assert await engine.complete(big_query()) == ""
    assert engine.stats.timeouts == 1


async def test_a_failed_profile_is_not_asked_again_on_every_keystroke() -> None:
    provider = FakeProvider()
    provider.fail = OllamaUnreachable("http://127.0.0.1:1", "capabilities: refused")
    engine, _ = make_engine(provider, indent="")
    for _ in range(4):
        assert await engine.complete(big_query()) == ""
    assert provider.capability_calls == 1


async def test_edits_while_the_profile_is_fetched_do_not_mix_versions() -> None:
    """The query holds the live line list; the engine cuts what it needs before awaiting."""
    provider = FakeProvider(insert=False)
    provider.default = " f()"
    provider.capabilities_gate = answer = asyncio.Event()
    engine, _ = make_engine(provider, indent="")
    lines = ["def f():", "    return 1", "", "x = f"]
    query = Query(uri=URI, lines=lines, line=3, column=5, invoked=True)
    pending = asyncio.ensure_future(engine.complete(query))
    await asyncio.wait_for(provider.capabilities_asked.wait(), 2)
    del lines[0:3]  # the user deleted lines above while we waited
    answer.set()
    await pending
    (request,) = provider.generations
    assert "def f():\n    return 1\n\nx =" in request.prompt  # " f" healed


async def test_the_model_is_announced_as_asked_before_tokens() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, indent="")
    seen: list[int] = []
    await engine.complete(big_query(), on_tokens=seen.append)
    assert seen[0] == 0
    assert seen[-1] > 0


async def test_no_progress_is_announced_for_a_cache_hit() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=600_000)
    await engine.complete(big_query())
    seen: list[int] = []
    await engine.complete(big_query(), on_tokens=seen.append)
    assert seen == []


async def test_a_slow_block_shows_the_lines_written_when_time_is_up() -> None:
    provider = FakeProvider()
    provider.default = "x = 1\n    y = 2\n    z = 3\n    w = 4\n    v = 5\n    u = 6\n"
    provider.token_s = 0.03  # ~30 tokens: ~0.9 s for the whole block
    engine, _ = make_engine(provider, prompt_latency_ms=200, prefill=False)
    answer = await engine.complete(query(invoked=True))
    assert answer.startswith("x = 1") and not answer.endswith(" ")
    assert answer.count("\n") < 5  # not the whole block: the lines complete when time was up
    assert provider.closed_early == 1


async def test_guided_healing_steers_the_first_tokens_to_the_partial_word() -> None:
    """The model's favourite first token is another word; an alternative spells ours."""
    provider = FakeProvider()
    provider.default = "return a + b"
    provider.alternatives = ("if", "#")  # more probable than the answer's own "return"
    engine, _ = make_engine(provider)
    doc = "def add(a, b):\n    ret\n"
    q = Query(uri="file:///g.py", lines=doc.split("\n"), line=1, column=7, invoked=True)
    assert await engine.complete(q) == "urn a + b"
    steps = [r for r in provider.requests if r.top_logprobs]
    (final,) = provider.generations
    assert steps
    assert final.prompt.endswith("<MID>return")  # the steered token starts the middle


async def test_no_agreeing_alternative_means_no_generation() -> None:
    provider = FakeProvider()
    provider.default = "if x:"
    engine, _ = make_engine(provider)
    doc = "def add(a, b):\n    ret\n"
    q = Query(uri="file:///g.py", lines=doc.split("\n"), line=1, column=7, invoked=True)
    assert await engine.complete(q) == ""
    assert provider.generations == []


async def test_after_a_suggestion_is_shown_the_next_one_is_speculated_into_the_cache() -> None:
    provider = FakeProvider()
    provider.responses = ["return a + b", " b  # the sum"]  # after `+ b`: healed " b"
    engine, _ = make_engine(provider, speculate=True)
    doc = "def add(a, b):\n    \n"
    q = Query(uri="file:///s.py", lines=doc.split("\n"), line=1, column=4, invoked=True)
    assert await engine.complete(q) == "return a + b"
    (speculation,) = engine._speculative or (None,)
    assert speculation is not None
    await speculation.task
    accepted = "def add(a, b):\n    return a + b\n"
    after = Query(uri="file:///s.py", lines=accepted.split("\n"), line=1, column=16)
    assert await engine.complete(after) == "  # the sum"
    assert len(provider.generations) == 2  # no third call: the accepted place was ready
    assert engine.stats.speculation_hits == 1


@pytest.mark.parametrize(
    ("token_logprob", "speculated"),
    [(-0.05, True), (-0.5, False), (None, True)],  # 7 tokens: p 0.70, 0.03, not sent
)
async def test_speculation_runs_only_past_a_suggestion_the_model_is_sure_of(
    token_logprob: float | None, speculated: bool
) -> None:
    """A speculation is reused only if the suggestion is taken whole: it runs when the model
    gave the suggestion at least ``SURE``; a backend without logprobs leaves it as it was."""
    provider = FakeProvider()
    provider.token_logprob = token_logprob
    engine, _ = make_engine(provider, speculate=True)
    doc = "def add(a, b):\n    \n"
    q = Query(uri="file:///s.py", lines=doc.split("\n"), line=1, column=4, invoked=True)
    assert await engine.complete(q) == "return a + b"
    assert provider.requests[0].logprobs
    assert bool(engine._speculative) == speculated
    assert engine.stats.speculations_unsure == (not speculated)


async def test_without_speculation_no_logprobs_are_asked_for() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider, speculate=False)
    await engine.complete(query(invoked=True))
    assert not any(r.logprobs for r in provider.requests)


async def test_a_speculation_gives_way_to_a_real_request_elsewhere() -> None:
    provider = FakeProvider()
    provider.responses = ["return a + b", " b  # slow speculation", "pass"]
    engine, _ = make_engine(provider, speculate=True)
    doc = "def add(a, b):\n    \n\ndef sub(a, b):\n    (\n"
    q = Query(uri="file:///s.py", lines=doc.split("\n"), line=1, column=4, invoked=True)
    await engine.complete(q)
    (speculation,) = engine._speculative  # started, not yet run
    provider.token_s = 0.5  # the speculation would take long
    provider.streaming.clear()
    await asyncio.wait_for(provider.streaming.wait(), 2)  # it is generating
    provider.token_s = 0.0
    other = Query(uri="file:///s.py", lines=doc.split("\n"), line=4, column=5, invoked=True)
    assert await engine.complete(other) == "pass"
    assert speculation.task.cancelled()
    assert provider.closed_early == 1


async def test_an_explicit_invoke_offers_different_candidates() -> None:
    provider = FakeProvider()
    provider.responses = ["return a + b", "return b + a", "return a + b", "return sum((a, b))"]
    engine, _ = make_engine(provider)
    found = await engine.candidates(query(invoked=True), 4)
    assert found == ["return a + b", "return b + a", "return sum((a, b))"]
    temperatures = [r.temperature for r in provider.generations]
    assert temperatures[0] == 0.2 and len(set(temperatures)) == 4


async def test_automatic_triggers_keep_one_suggestion() -> None:
    provider = FakeProvider()
    engine, _ = make_engine(provider)
    assert await engine.candidates(query(invoked=False), 4) == ["return a + b"]
    assert len(provider.generations) == 1


async def test_a_cancelled_request_s_generation_is_followed_by_the_next_request() -> None:
    """VS Code cancels the pending request on every keystroke and asks again at once."""
    provider = FakeProvider()
    provider.token_s = 0.02
    engine, _ = make_engine(provider)
    first = asyncio.create_task(engine.complete(query()))
    await asyncio.wait_for(provider.streaming.wait(), 2)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await engine.complete(typed("ret")) == "urn a + b"
    assert len(provider.generations) == 1
    assert provider.closed_early == 0


async def test_a_cancelled_generation_nobody_follows_is_stopped_after_the_grace() -> None:
    provider = FakeProvider()
    provider.default = " ".join(["word"] * 400)
    provider.token_s = 0.01
    engine, _ = make_engine(provider, multiline="always")
    task = asyncio.create_task(engine.complete(query()))
    await asyncio.wait_for(provider.streaming.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(provider.closed.wait(), CANCEL_GRACE_S + 1)
    assert provider.tokens_sent < 400


async def test_the_window_held_is_kept_and_grows_while_typing_in_one_place() -> None:
    provider = slow_provider()
    engine, _ = make_engine(provider, indent="", prompt_latency_ms=1000, prefill=False)
    typed = "".join(f"def total_{i}(a, b):\n    s = a + b * {i}\n    return s\n" for i in range(6))
    for n in range(0, len(typed) + 1, 6):
        await engine.complete(big_query(BIG + typed[:n], CURSOR + n))
    first, *_, last = provider.generations
    head = first.prompt[: first.prompt.index(" <SUF>")]
    # every prompt starts where the first did: only the typed text is new to the model
    assert all(r.prompt.startswith(head) for r in provider.generations)
    assert last.prompt.startswith(head + typed[: len(typed) - len(typed) % 6])
    # and the window grew past what a cold prompt affords
    assert len(last.prompt) > engine._sizer.cold_chars(last.model) + 40
