"""Model management from the editor: the ollama.* commands end to end against the double."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from ollama_lsp.settings import DEFAULT_CHAT_MODEL, DEFAULT_MODEL
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
DOC = "def add(a, b):\n    \n"


async def run(client, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def progress_of(client) -> list[list[Any]]:
    return [list(reports) for reports in client.progress_reports.values()]


async def test_commands_are_advertised(client: LanguageClient, double: OllamaDouble) -> None:
    provider = client.initialize_result.capabilities.execute_command_provider
    assert provider is not None
    assert set(provider.commands) >= {
        "ollama.listModels", "ollama.pullModel", "ollama.selectModel", "ollama.deleteModel",
        "ollama.showModel", "ollama.status", "ollama.chat", "ollama.accepted",
    }  # fmt: skip


async def test_list_models_marks_active_installed_and_presets(
    client: LanguageClient, double: OllamaDouble
) -> None:
    rows = {row["name"]: row for row in await run(client, "ollama.listModels")}
    code = rows[DEFAULT_MODEL]
    assert code["installed"] and code["active"] and not code["activeChat"]
    assert code["quantization"] == "Q4_0" and code["parameterSize"] == "7B"
    assert code["size"] > 3e9 and code["fitsInMemory"] is True
    assert rows[DEFAULT_CHAT_MODEL]["activeChat"]
    assert rows["codellama:7b-code-q8_0"]["installed"] is False  # a preset not yet pulled
    assert set(code) >= {
        "name", "size", "parameterSize", "quantization", "family", "modifiedAt",
        "installed", "active", "loaded", "fitsInMemory",
    }  # fmt: skip


async def test_select_model_changes_the_completion_model(
    start_lsp: StartLsp, ollama_double
) -> None:
    client = await start_lsp(inline_client_capabilities())
    result = await run(client, "ollama.selectModel", "qwen2.5-coder:1.5b-base")
    assert result["model"] == "qwen2.5-coder:1.5b-base"
    assert result["unloaded"] == DEFAULT_MODEL
    loads = [r for r in ollama_double.requests_to("/api/generate") if r.body.get("keep_alive") == 0]
    assert [r.body["model"] for r in loads] == [DEFAULT_MODEL]
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    await inline(client, URI, 1, 4)
    assert generate_calls(ollama_double)[-1].body["model"] == "qwen2.5-coder:1.5b-base"
    rows = {row["name"]: row for row in await run(client, "ollama.listModels")}
    assert rows["qwen2.5-coder:1.5b-base"]["active"] and rows["qwen2.5-coder:1.5b-base"]["loaded"]


async def test_pull_reports_progress_and_lists_the_model(
    client: LanguageClient, double: OllamaDouble
) -> None:
    result = await run(client, "ollama.pullModel", "codellama:7b-code-q8_0")
    assert result == {"name": "codellama:7b-code-q8_0", "status": "success"}
    (reports,) = [r for r in progress_of(client) if "Pulling" in getattr(r[0], "title", "")]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    percentages = [r.percentage for r in reports[1:-1] if r.percentage is not None]
    assert len(set(percentages)) >= 3 and percentages == sorted(percentages)
    assert any("GB" in (r.message or "") for r in reports[1:-1])
    names = {row["name"]: row for row in await run(client, "ollama.listModels")}
    assert names["codellama:7b-code-q8_0"]["installed"] is True


async def test_pull_of_unknown_model_names_it(client: LanguageClient, double: OllamaDouble) -> None:
    with pytest.raises(JsonRpcException) as err:
        await run(client, "ollama.pullModel", "no-such-model:7b")
    assert "no-such-model:7b" in str(err.value)
    assert "file does not exist" in str(err.value)


async def test_cancelling_a_pull_closes_the_stream(
    client: LanguageClient, double: OllamaDouble
) -> None:
    double.latency.pull_tick_s = 0.05
    pull = asyncio.create_task(run(client, "ollama.pullModel", "codellama:13b-code"))
    await double.wait_for_async(lambda r: r.path == "/api/pull" and r.chunks_sent >= 3)
    (token,) = client.progress_reports.keys()
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await double.wait_for_async(lambda r: r.path == "/api/pull" and r.disconnected, 1.0)
    assert await asyncio.wait_for(pull, 5) == {"name": "codellama:13b-code", "status": "cancelled"}
    rows = {row["name"]: row for row in await run(client, "ollama.listModels")}
    assert rows["codellama:13b-code"]["installed"] is False


async def test_model_larger_than_free_ram_warns_with_an_alternative(
    start_lsp: StartLsp, ollama_double
) -> None:
    ollama_double.install("codellama:70b-code")
    client = await start_lsp(inline_client_capabilities())
    result = await run(client, "ollama.selectModel", "codellama:70b-code")
    warning = result["warning"]
    assert warning.startswith("codellama:70b-code needs about ")
    assert "is free" in warning and "codellama:" in warning.split("free")[1]
    assert any(warning == m.message for m in client.messages)


async def test_status_has_every_field(client: LanguageClient, double: OllamaDouble) -> None:
    await run(client, "ollama.selectModel", DEFAULT_MODEL)
    status = await run(client, "ollama.status")
    assert status["host"] == double.url
    assert status["reachable"] is True and status["version"] == "0.12.0"
    assert status["model"] == DEFAULT_MODEL
    assert status["chatModel"] == DEFAULT_CHAT_MODEL
    assert [m["name"] for m in status["loaded"]] == [DEFAULT_MODEL]
    assert set(status["memory"]) == {"rss", "available", "total"}
    assert 0 < status["memory"]["rss"] < 200e6
    assert set(status["cache"]) >= {"hits", "misses", "entries"}
    assert set(status["completions"]) >= {"count", "p50Ms"}


async def test_chat_streams_with_progress(client: LanguageClient, double: OllamaDouble) -> None:
    double.script("Use a dict comprehension.")
    result = await run(
        client,
        "ollama.chat",
        {"messages": [{"role": "user", "content": "How do I invert a dict?"}]},
    )
    assert result["message"] == {"role": "assistant", "content": "Use a dict comprehension."}
    assert result["model"] == DEFAULT_CHAT_MODEL
    (reports,) = [r for r in progress_of(client) if "Chatting" in getattr(r[0], "title", "")]
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    (call,) = double.requests_to("/api/chat")
    assert call.body["stream"] is True


async def test_show_and_delete(client: LanguageClient, double: OllamaDouble) -> None:
    shown = await run(client, "ollama.showModel", DEFAULT_MODEL)
    assert shown["contextLength"] == 16384 and shown["supportsInsert"] is True
    assert "insert" in shown["capabilities"] and "<PRE>" in shown["template"]
    assert await run(client, "ollama.deleteModel", "qwen2.5-coder:1.5b-base") == {
        "name": "qwen2.5-coder:1.5b-base",
        "status": "deleted",
    }
    rows = {row["name"] for row in await run(client, "ollama.listModels")}
    assert "qwen2.5-coder:1.5b-base" not in rows


@pytest.mark.parametrize(
    ("command", "arguments", "expected"),
    [
        ("ollama.pullModel", [], "takes one argument: the model name"),
        ("ollama.pullModel", [42], "got 42"),
        ("ollama.selectModel", ["a", "b", "c"], "got 3 argument(s)"),
        ("ollama.selectModel", [DEFAULT_MODEL, "editor"], "got role 'editor'"),
        ("ollama.deleteModel", [None], "got None"),
        ("ollama.showModel", [["x"]], "got ['x']"),
        ("ollama.status", ["extra"], "takes no arguments"),
        ("ollama.chat", [{"messages": "hi"}], "ollama.chat takes one argument"),
    ],
)
async def test_bad_arguments_are_invalid_params(
    client: LanguageClient, double: OllamaDouble, command: str, arguments: list[Any], expected: str
) -> None:
    with pytest.raises(JsonRpcException) as err:
        await run(client, command, *arguments)
    assert err.value.code == -32602
    assert expected in str(err.value)
    assert (await run(client, "ollama.status"))["reachable"] is True  # still serving


async def test_failed_select_keeps_the_previous_model(start_lsp: StartLsp) -> None:
    # its own server: the failed select offers a pull (showMessageRequest) nobody answers
    client = await start_lsp(inline_client_capabilities())
    with pytest.raises(JsonRpcException) as err:
        await run(client, "ollama.selectModel", "mistery:7b")
    assert "'mistery:7b' is not installed" in str(err.value)
    assert (await run(client, "ollama.status"))["model"] == DEFAULT_MODEL


async def test_ollama_down_errors_name_the_host(start_lsp: StartLsp, closed_port_host) -> None:
    client = await start_lsp(
        inline_client_capabilities(), initialization_options={"host": closed_port_host}
    )
    for command, args in (("ollama.listModels", []), ("ollama.selectModel", [DEFAULT_MODEL])):
        with pytest.raises(JsonRpcException) as err:
            await run(client, command, *args)
        assert f"http://{closed_port_host}" in str(err.value)
    status = await run(client, "ollama.status")
    assert status["reachable"] is False and status["loaded"] == []


async def test_selecting_a_model_not_pulled_offers_the_pull_then_selects(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    """The select fails at once (nothing changes); answering "Pull" pulls, then selects."""
    client = await start_lsp(inline_client_capabilities(editor))
    name = "codellama:7b-code-q4_K_M"
    offered = asyncio.Event()

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        offered.set()
        return types.MessageActionItem(title=f"Pull {name}")

    with pytest.raises(JsonRpcException) as err:
        await run(client, "ollama.selectModel", name)
    assert f"'{name}' is not installed" in str(err.value)
    assert (await run(client, "ollama.status"))["model"] == DEFAULT_MODEL
    await asyncio.wait_for(offered.wait(), 5)
    # the pull, then the selection's load: it is selected when its progress ends
    await notified_until(client, types.PROGRESS, lambda: progress_ended(client, f"Loading {name}"))
    assert (await run(client, "ollama.status"))["model"] == name
    assert [r for r in ollama_double.requests_to("/api/pull") if r.finished]
