"""The real server process starts, initializes, reports its Ollama, and shuts down cleanly."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import StartLsp, inline_client_capabilities


@pytest.mark.parametrize("editor", ["visual-studio-code", "neovim", "inline"])
async def test_initialize_and_shutdown(start_lsp: StartLsp, editor: str) -> None:
    caps = inline_client_capabilities() if editor == "inline" else editor
    client = await start_lsp(caps)
    result = client.initialize_result
    assert result.server_info is not None
    assert result.server_info.name == "ollama-lsp"
    assert result.server_info.version
    await client.shutdown_session()
    assert client._server is not None and client._server.returncode == 0


async def test_announces_ollama_version_in_log(start_lsp: StartLsp, ollama_double) -> None:
    client = await start_lsp()
    message = await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
    assert "Ollama 0.12.0" in message.message
    assert ollama_double.url in message.message


async def test_down_ollama_is_logged_with_the_fix(start_lsp: StartLsp, closed_port_host) -> None:
    client = await start_lsp(initialization_options={"ollama": {"host": closed_port_host}})
    message = await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
    assert f"http://{closed_port_host}" in message.message
    assert "ollama serve" in message.message
