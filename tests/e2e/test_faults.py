"""Faults end to end: the server always answers, tells the user once, and keeps serving."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ollama_lsp.settings import DEFAULT_MODEL
from tests.ollama_double import OllamaDouble

from .conftest import (
    StartLsp,
    generate_calls,
    inline,
    inline_client_capabilities,
    notified_until,
    open_document,
    progress_ended,
)

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"


async def test_ollama_down_answers_fast_and_tells_once(
    start_lsp: StartLsp, closed_port_host: str
) -> None:
    client = await start_lsp(
        inline_client_capabilities(), initialization_options={"host": closed_port_host}
    )
    open_document(client, URI, DOC)
    for character in (4, 4, 0):
        start = time.monotonic()
        assert await inline(client, URI, 1, character) == []
        assert time.monotonic() - start < 2.0
    shown = [m.message for m in client.messages if "not reachable" in m.message]
    assert shown == [
        f"Ollama is not reachable at http://{closed_port_host} — start it with `ollama serve` "
        "(or set the `ollama.host` setting / OLLAMA_HOST to where it runs)"
    ]


async def test_recovers_when_ollama_is_reachable(
    start_lsp: StartLsp, ollama_double, closed_port_host: str
) -> None:
    client = await start_lsp(
        inline_client_capabilities(), initialization_options={"host": closed_port_host}
    )
    open_document(client, URI, DOC)
    assert await inline(client, URI, 1, 4) == []
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"ollama": {"host": ollama_double.host}})
    )
    ollama_double.script("return a + b")
    # the server reads messages in order: the request after the change is served with it
    assert [i.insert_text for i in await inline(client, URI, 1, 4)] == ["return a + b"]


async def test_missing_model_offers_a_pull_that_runs_with_progress(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    ollama_double.uninstall(DEFAULT_MODEL)
    ollama_double.latency.pull_tick_s = 0.001
    client = await start_lsp(inline_client_capabilities(editor))
    offers: list[types.ShowMessageRequestParams] = []
    answered = asyncio.Event()

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        offers.append(params)
        answered.set()
        return types.MessageActionItem(title=f"Pull {DEFAULT_MODEL}")

    open_document(client, URI, DOC)
    assert await inline(client, URI, 1, 4) == []
    assert await inline(client, URI, 1, 4) == []
    await asyncio.wait_for(answered.wait(), 5)
    assert len(offers) == 1
    assert f"'{DEFAULT_MODEL}' is not installed" in offers[0].message
    # the model is available from the moment the pull's progress ends
    pulled = f"Pulling {DEFAULT_MODEL}"
    await notified_until(client, types.PROGRESS, lambda: progress_ended(client, pulled))
    assert [r for r in ollama_double.requests_to("/api/pull") if r.finished]
    ollama_double.script("return a + b")
    assert [i.insert_text for i in await inline(client, URI, 1, 4)] == ["return a + b"]


@pytest.mark.parametrize(
    ("kind", "after"),
    [("http_error", 0), ("error_line", 2), ("malformed_line", 2), ("truncate", 2)],
)
async def test_broken_answers_are_empty_then_service_continues(
    client: LanguageClient, double: OllamaDouble, kind: str, after: int
) -> None:
    open_document(client, URI, DOC)
    double.script("return a + b + c")
    double.inject_fault(kind, after_chunks=after)
    assert await inline(client, URI, 1, 4) == []
    double.script("return a + b")
    items = await inline(client, URI, 1, 4)
    assert [i.insert_text for i in items] == ["return a + b"]
    assert len(generate_calls(double)) == 2
