"""The whole language server with ``ollama.api: "openai"`` against llama.cpp's own
``llama-server`` serving Qwen2.5-Coder 0.5B, a real fill-in-the-middle code model, the way
llama.vim's and LM Studio's users run it (shared slots, ``--cache-reuse 256``, 1 thread).

The places are ``test_places``' seven in the standard library's ``textwrap.py`` (not ours),
judged by its rules, which hold on any x86-64 machine: no suggestion is broken (a duplicated
bracket, a broken or glued word, a doubled space: ``benchmarks.quality.classify``); where the
code is already complete the answer is empty or consistent with the code that follows
(``test_places.contradiction``). Then: the FIM prompt reaches ``/v1/completions``
verbatim and llama-server reads its FIM strings as Qwen's special tokens; the model list and
``ollama.status`` tell what the server serves; a stopped server is one message; a cancelled
request frees the engine. Rates and speeds are the benchmarks' business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from lsprotocol import types

from benchmarks.quality import classify
from tests.e2e.conftest import inline, open_document
from tests.remote import conftest as remote
from tests.remote.conftest import Session, StartRemote

from .llama_server import QWEN_05B, LlamaServer, need
from .test_places import IDENTIFIERS, PLACES, contradiction

start_remote = remote.start_remote  # the language server on stdio, with a DEBUG log
FIM_IDS = (151659, 151661, 151660)
SEED = 7  # the sampler's seed; answers still vary with the windows the speed allows
WAIT_S = 120.0  # one suggestion on 1 contended thread, with healing steps: generous


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    _, weights = need(QWEN_05B)
    with LlamaServer(weights, QWEN_05B, seed=SEED, slots_debug=True) as running:
        yield running


def settings(server: LlamaServer | str, **completion: Any) -> dict[str, Any]:
    url = server if isinstance(server, str) else server.url
    return {"api": "openai", "host": url, "model": QWEN_05B, "completion": completion}


def place(name: str) -> tuple[str, int]:
    """The document and cursor of one of ``test_places``' places."""
    return PLACES[name].doc, PLACES[name].cursor


def position(doc: str, cursor: int) -> tuple[int, int]:
    """The LSP position of ``cursor`` (textwrap.py is ASCII: characters are code units)."""
    line = doc.count("\n", 0, cursor)
    return line, cursor - (doc.rfind("\n", 0, cursor) + 1)


def around(doc: str, cursor: int) -> tuple[str, str]:
    """The cursor line's text before and after the cursor."""
    start = doc.rfind("\n", 0, cursor) + 1
    end = doc.find("\n", cursor)
    return doc[start:cursor], doc[cursor : end if end >= 0 else len(doc)]


async def suggest(session: Session, uri: str, doc: str, cursor: int) -> str:
    open_document(session.client, uri, doc)
    items = await asyncio.wait_for(inline(session.client, uri, *position(doc, cursor)), WAIT_S)
    text = items[0].insert_text if items else ""
    return text if isinstance(text, str) else ""


@pytest.mark.timeout(600)  # seven cold places on one contended thread
async def test_suggestions_at_real_places_are_sound(
    server: LlamaServer, start_remote: StartRemote
) -> None:
    session = await start_remote(settings(server, prefill=True, speculate=True))  # defaults
    said: dict[str, str] = {}
    for n, (name, place) in enumerate(PLACES.items()):
        uri = f"file:///real/place{n}/textwrap.py"
        said[name] = await suggest(session, uri, place.doc, place.cursor)
    report = "\n".join(f"{name:24} {text!r}" for name, text in said.items())
    print(f"\nllama-server {QWEN_05B}\n{report}")  # shown with pytest -s
    for name, text in said.items():
        place = PLACES[name]
        before, after = around(place.doc, place.cursor)
        broken = classify(before, text, after, IDENTIFIERS) if text else None
        assert broken is None, f"{name}: {broken} in {text!r}\n{report}"
    assert not session.popups()
    for name, text in said.items():
        wrong = contradiction(PLACES[name], text) if PLACES[name].complete else None
        assert wrong is None, f"{name}: {text!r}: {wrong}\n{report}"


async def test_the_fim_prompt_reaches_llama_server_verbatim_as_special_tokens(
    server: LlamaServer, start_remote: StartRemote
) -> None:
    session = await start_remote(settings(server))
    doc, cursor = place("empty line after a def")  # no healing step: one request
    assert await asyncio.to_thread(server.wait_idle, WAIT_S)  # earlier tests' work is counted
    before, mark = server.metrics(), server.mark()
    await suggest(session, "file:///real/fim/textwrap.py", doc, cursor)
    assert await asyncio.to_thread(server.wait_idle, WAIT_S)
    after = server.metrics()
    assert sum("processing task" in line for line in server.lines[mark:]) == 1
    last = max(server.slots(), key=lambda slot: slot.get("id_task", -1))
    prompt = last["prompt"]  # as llama-server read it, special tokens written out
    line = doc[:cursor].rpartition("\n")[2]  # the cursor line goes after the middle token
    assert prompt.endswith("<|fim_middle|>" + line) and "def fill(self, text):" in prompt, prompt
    ids = server.tokenize(prompt)
    assert [i for i in ids if i in FIM_IDS] == list(FIM_IDS)  # each once, in order
    read = sum(after[k] - before[k] for k in ("prompt_tokens_total", "prompt_tokens_cached_total"))
    assert read == len(ids)  # had the FIM strings been text, each would be several tokens


async def test_models_and_status_tell_what_llama_server_serves(
    server: LlamaServer, start_remote: StartRemote
) -> None:
    session = await start_remote(settings(server))
    models = await session.run("ollama.listModels")
    assert [m["name"] for m in models] == [QWEN_05B] and models[0]["active"]
    status = await session.status()
    assert status["api"] == "openai" and status["reachable"]
    assert [h["state"] for h in status["hosts"]] == ["up"]
    assert "llamacpp" in status["version"]
    assert not session.popups()


async def test_a_stopped_llama_server_is_one_clear_message(start_remote: StartRemote) -> None:
    _, weights = need(QWEN_05B)
    with LlamaServer(weights, QWEN_05B) as stopped:
        url = stopped.url
    session = await start_remote(settings(url))
    doc, cursor = place("complete-line end 2")
    for n in range(3):
        assert await suggest(session, f"file:///real/stopped{n}.py", doc, cursor) == ""
    (message,) = session.popups()
    assert "not reachable" in message and url.split("//")[1] in message


@pytest.mark.timeout(300)
async def test_a_cancelled_request_leaves_the_engine_free(
    server: LlamaServer, start_remote: StartRemote
) -> None:
    # The whole window at once (no latency budget): seconds of prompt evaluation on one
    # thread on any CPU, so the cancellation lands while llama-server is still at work. It
    # cancels the task at once but cannot interrupt a batch (-b 2048): the slot is released
    # when the prompt's batch ends (~30 s for ~1,650 tokens here; our latency budget is what
    # keeps real prompts short).
    big = settings(server, promptLatencyMs=600_000, maxTokens=256, multiline="always")
    session = await start_remote(big)
    client = session.client
    doc, cursor = place("empty line after a def")
    uri = "file:///real/cancel/textwrap.py"
    open_document(client, uri, doc)
    line, character = position(doc, cursor)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line, character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    assert await asyncio.to_thread(server.wait_idle, WAIT_S)
    mark = server.mark()
    request = asyncio.create_task(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me"
        )
    )
    assert await asyncio.to_thread(server.wait_for, "processing task", WAIT_S, after=mark)
    client.cancel_request(types.CancelParams(id="cancel-me"))
    cancelled = await asyncio.to_thread(server.wait_for, "cancel task", WAIT_S, after=mark)
    assert cancelled, "".join(server.lines[mark:])
    assert await asyncio.to_thread(server.wait_idle, WAIT_S)  # the slot was released
    assert server.metrics()["requests_processing"] == 0
    try:
        await asyncio.wait_for(request, WAIT_S)
    except Exception as exc:  # the cancelled request is answered with RequestCancelled
        assert "cancel" in str(exc).lower()
    fresh = await start_remote(settings(server))
    doc, cursor = place("complete-line end 2")
    mark = server.mark()
    await suggest(fresh, "file:///real/after-cancel/textwrap.py", doc, cursor)
    assert "cancel task" not in "".join(server.lines[mark:])
    assert not session.popups() and not fresh.popups()
