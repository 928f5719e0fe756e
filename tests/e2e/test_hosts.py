"""Hosts end to end: credentials work and stay secret, bad hosts are refused and never half-apply.

Every place a host is given is covered: ``OLLAMA_HOST`` (the server must start even when it is
unusable), ``initializationOptions.host`` and ``workspace/didChangeConfiguration``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.ollama.hostile import hostile_server, send

from .conftest import StartLsp, generate_calls, inline, inline_client_capabilities, open_document

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    \n"
SECRET = "s3cr3t-pw"
QWEN = "qwen2.5-coder:1.5b-base"


async def status(client: Any) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ollama.status", arguments=[])
    )


def everything_said(client: Any) -> list[str]:
    return [m.message for m in client.messages] + [m.message for m in client.log_messages]


async def test_credentials_in_ollama_host_work_and_are_never_shown(
    start_lsp: StartLsp, ollama_double
) -> None:
    host = f"http://me:{SECRET}@{ollama_double.host}"
    client = await start_lsp(inline_client_capabilities(), env={"OLLAMA_HOST": host})
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    assert [i.insert_text for i in await inline(client, URI, 1, 4)] == ["return a + b"]
    assert (await status(client))["host"] == f"http://me:***@{ollama_double.host}"
    assert generate_calls(ollama_double)
    assert not any(SECRET in m for m in everything_said(client))


async def test_credentials_in_initialization_options(start_lsp: StartLsp, ollama_double) -> None:
    host = f"http://me:{SECRET}@{ollama_double.host}"
    client = await start_lsp(inline_client_capabilities(), initialization_options={"host": host})
    assert (await status(client))["host"] == f"http://me:***@{ollama_double.host}"
    assert (await status(client))["reachable"] is True
    assert not any(SECRET in m for m in everything_said(client))


async def test_an_unusable_ollama_host_still_starts_on_the_default_and_says_so_once(
    start_lsp: StartLsp,
) -> None:
    client = await start_lsp(
        inline_client_capabilities(), env={"OLLAMA_HOST": f"gopher://me:{SECRET}@example.com"}
    )
    assert (await status(client))["host"] == "http://127.0.0.1:11434"
    # (the warm-up on the default host may also fail, and that message names OLLAMA_HOST too)
    told = [m.message for m in client.messages if m.message.startswith("OLLAMA_HOST")]
    assert len(told) == 1
    assert "http:// or https://" in told[0] and "gopher://me:***@example.com" in told[0]
    assert not any(SECRET in m for m in everything_said(client))


async def test_a_bad_host_in_settings_is_refused_and_the_rest_applies(
    start_lsp: StartLsp, ollama_double
) -> None:
    client = await start_lsp(inline_client_capabilities())
    before = await status(client)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"ollama": {"host": f"http://me:{SECRET}@127.0.0.1:99999", "model": QWEN}}
        )
    )
    # the server reads messages in order: a request after the change sees it applied
    after = await status(client)
    assert after["model"] == QWEN
    assert after["host"] == before["host"] == ollama_double.url  # the old host stays
    refused = [m.message for m in client.messages if "ollama.host" in m.message]
    assert len(refused) == 1 and "a port from 1 to 65535" in refused[0]
    assert not any(SECRET in m for m in everything_said(client))
    # later changes still apply, the bad host included once it is fixed
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"ollama": {"host": f"http://me:{SECRET}@{ollama_double.host}"}}
        )
    )
    after = await status(client)
    assert (after["host"], after["model"]) == (f"http://me:***@{ollama_double.host}", QWEN)


async def test_other_schemes_and_ports_are_refused_in_initialization_options(
    start_lsp: StartLsp, ollama_double
) -> None:
    client = await start_lsp(
        inline_client_capabilities(), initialization_options={"host": "file:///etc/passwd"}
    )
    assert (await status(client))["host"] == ollama_double.url  # OLLAMA_HOST still applies
    refused = [m.message for m in client.messages if "ollama.host" in m.message]
    assert len(refused) == 1 and "file:// cannot reach Ollama" in refused[0]


async def test_delete_model_behind_a_redirect_is_an_error_not_deleted(
    start_lsp: StartLsp,
) -> None:
    async def answer(request: Any, writer: asyncio.StreamWriter) -> None:
        await send(writer, 302, b"", {"Location": "https://sso.example/login"})

    async with hostile_server(answer) as proxy:
        client = await start_lsp(
            inline_client_capabilities(), initialization_options={"host": proxy.host}
        )
        with pytest.raises(JsonRpcException) as err:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ollama.deleteModel", arguments=[QWEN])
            )
    assert "redirect (302) to https://sso.example/login" in str(err.value)
    assert "proxy or the wrong host" in str(err.value)
    assert any(r.method == "DELETE" and r.path == "/api/delete" for r in proxy.received)
