"""End-to-end fixtures: the real ``ollama-lsp`` process over stdio, driven by pytest-lsp.

``pytest_lsp.fixture`` starts the server before other fixtures resolve, but the server
needs the double's random port in ``OLLAMA_HOST``; so ``start_lsp`` builds the pytest-lsp
``ClientServerConfig`` at run time instead, and shuts every session down cleanly.

Two ways to get a server:

* ``start_lsp(capabilities, initialization_options=..., env=...)``: a fresh process per call,
  against the test's own ``ollama_double`` — for tests that change settings, models or what
  the server has told the user, or need particular capabilities.
* ``client`` + ``double``: one process per module and editor, shared by the tests that leave
  nothing behind (each test's documents are closed after it, which also drops their cache
  entries; the double's records, scripts, faults, latency and models are reset before it).
  It runs each such test under VS Code's and Neovim's recorded capabilities (``EDITORS``).
  ``editor`` gives the same two names to tests that start their own server.

Every e2e test runs in its module's event loop (``pytest_collection_modifyitems`` below), as
a module-scoped server needs (pygls.md, pitfalls).
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.ollama_double import OllamaDouble
from tests.ollama_double.catalogue import DEFAULT_INSTALLED
from tests.ollama_double.state import Latency

SERVER_COMMAND = [sys.executable, "-m", "ollama_lsp", "--log-level", "INFO"]

#: The recorded editor capability sets (pytest-lsp) the capability-dependent tests run under:
#: VS Code 1.65 (utf-16 positions) and Neovim 0.11 (utf-8), each with inline completion added.
EDITORS = ("visual-studio-code", "neovim")

StartLsp = Callable[..., Awaitable[LanguageClient]]

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every e2e test in its module's loop: the loop a module-scoped server lives in."""
    marker = pytest.mark.asyncio(loop_scope="module")
    for item in items:
        if HERE in Path(str(item.path)).parents and pytest_asyncio.is_async_test(item):
            item.add_marker(marker, append=False)


def inline_client_capabilities(editor: str = "visual-studio-code") -> types.ClientCapabilities:
    """``editor``'s recorded capabilities with inline completion, which none of them declares
    (they predate it): work-done progress, configuration, and its position encoding."""
    caps = client_capabilities(editor)
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(
        dynamic_registration=False
    )
    return caps


@pytest.fixture(params=EDITORS)
def editor(request: pytest.FixtureRequest) -> str:
    """Each recorded editor capability set in turn, for tests that start their own server."""
    return request.param


async def launch(
    host: str,
    capabilities: types.ClientCapabilities | str = "visual-studio-code",
    *,
    initialization_options: Any = None,
    env: dict[str, str] | None = None,
) -> LanguageClient:
    """A started and initialized ``ollama-lsp`` process talking to the double at ``host``."""
    if isinstance(capabilities, str):
        capabilities = client_capabilities(capabilities)
    server_env = {**os.environ, "OLLAMA_HOST": host, **(env or {})}
    config = ClientServerConfig(server_command=SERVER_COMMAND, server_env=server_env)
    client = await config.start()
    client.initialize_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            initialization_options=quiet_background(initialization_options),
        )
    )
    return client


async def finish(client: LanguageClient) -> None:
    if not client.stopped:  # a test may have shut its session down itself
        await client.shutdown_session()
        await client.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def start_lsp(ollama_double) -> AsyncIterator[StartLsp]:
    """Start ``ollama-lsp`` against the double; returns an initialized pytest-lsp client."""
    clients: list[LanguageClient] = []

    async def start(
        capabilities: types.ClientCapabilities | str = "visual-studio-code", **options: Any
    ) -> LanguageClient:
        client = await launch(ollama_double.host, capabilities, **options)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await finish(client)


@pytest.fixture(scope="module")
def double() -> Iterator[OllamaDouble]:
    """The module's double, shared by the tests on the module's shared server (``client``)."""
    with OllamaDouble() as shared:
        yield shared


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=EDITORS)
async def shared_client(
    request: pytest.FixtureRequest, double: OllamaDouble
) -> AsyncIterator[LanguageClient]:
    client = await launch(double.host, inline_client_capabilities(request.param))
    yield client
    await finish(client)


@pytest_asyncio.fixture(loop_scope="module")
async def client(shared_client: LanguageClient, double: OllamaDouble) -> AsyncIterator[Any]:
    """The module's server for one editor, as if fresh: see the module docstring."""
    _reset(double)
    shared_client.messages.clear()
    shared_client.log_messages.clear()
    _opened(shared_client).clear()
    yield shared_client
    for uri in sorted(_opened(shared_client)):
        shared_client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    reports = shared_client.progress_reports
    await notified_until(shared_client, types.PROGRESS, lambda: all(map(_ended, reports.values())))
    reports.clear()  # every progress ended: none of them can be reported again


def _reset(double: OllamaDouble) -> None:
    double.reset_records()
    double.clear_scripts()
    double.clear_faults()
    double.latency = Latency()
    double.advance_clock(24 * 3600)  # every keep-alive expires: no model stays loaded
    for name in set(double.installed) - set(DEFAULT_INSTALLED):
        double.uninstall(name)
    for name in set(DEFAULT_INSTALLED) - set(double.installed):
        double.install(name)


def _ended(reports: list[Any]) -> bool:
    return bool(reports) and isinstance(reports[-1], types.WorkDoneProgressEnd)


_OPENED: weakref.WeakKeyDictionary[LanguageClient, set[str]] = weakref.WeakKeyDictionary()


def _opened(client: LanguageClient) -> set[str]:
    """The documents ``open_document`` opened on ``client`` (closed after a shared test)."""
    return _OPENED.setdefault(client, set())


#: Background generations (prefill during pauses, speculation after a shown suggestion)
#: are off in these tests unless a test sets them: they add calls at times a test does not
#: control. tests/completion and tests/real test them.
BACKGROUND_OFF = {"prefill": False, "speculate": False}


def quiet_background(options: Any) -> Any:
    """``options`` with the background generations off, unless they are set there."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return options  # a test of malformed options: leave them as they are
    nested = "ollama" in options and isinstance(options["ollama"], dict)
    section = dict(options["ollama"] if nested else options)
    completion = section.get("completion", {})
    if isinstance(completion, dict):
        section["completion"] = {**BACKGROUND_OFF, **completion}
    return {**options, "ollama": section} if nested else section


async def notified_until(
    client: LanguageClient, method: str, condition: Callable[[], object], within: float = 10.0
) -> None:
    """Wait until ``condition()`` holds, checked again as each ``method`` notification arrives.

    The waiter is registered before each check, so a notification arriving between the check
    and the wait is not missed (``client.wait_for_notification`` registers only when awaited).
    """
    async with asyncio.timeout(within):
        while True:
            arrived = client.protocol.wait_for_notification_async(method)
            # pytest-lsp fails waiters left pending at exit: nobody needs to hear about it
            arrived.add_done_callback(lambda f: f.cancelled() or f.exception())
            if condition():
                return
            await asyncio.shield(arrived)  # a timeout must not cancel pytest-lsp's future


def progress_ended(client: LanguageClient, title: str) -> bool:
    """Whether a work-done progress titled ``title`` has begun and ended."""
    return any(
        isinstance(reports[0], types.WorkDoneProgressBegin)
        and reports[0].title == title
        and isinstance(reports[-1], types.WorkDoneProgressEnd)
        for reports in client.progress_reports.values()
        if reports
    )


def generate_calls(double) -> list:
    """Generate requests that asked for text (not warm-up loads, whose prompt is empty)."""
    return [r for r in double.requests_to("/api/generate") if r.body and r.body.get("prompt")]


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    _opened(client).add(uri)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def insert_text(
    client: LanguageClient, uri: str, version: int, line: int, character: int, text: str
) -> None:
    """An incremental didChange inserting ``text`` at (line, character)."""
    at = types.Position(line, character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text)
            ],
        )
    )


async def inline(
    client: LanguageClient, uri: str, line: int, character: int, *, invoked: bool = True
) -> list[types.InlineCompletionItem]:
    kind = types.InlineCompletionTriggerKind
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(
                trigger_kind=kind.Invoked if invoked else kind.Automatic
            ),
        )
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)
