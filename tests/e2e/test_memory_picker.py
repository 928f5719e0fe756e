"""The memory-aware picker end to end: the real server, on a machine with 1 GB free.

The server learns the free memory from ``psutil.virtual_memory().available``; here it runs
with that one number replaced (``LIMITED``: a few lines around ``python -m ollama_lsp``),
set between what Qwen2.5-Coder 0.5B and 1.5B were measured to take at the server's context
(0.64 and 1.37 GB at 4096). The double serves both models with their real facts and reports
their measured sizes in ``/api/ps`` (``tests/ollama_double/measured.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.ollama_double import OllamaDouble
from tests.ollama_double.measured import MEASURED, ps_size

from .conftest import finish, inline_client_capabilities, quiet_background

SMALL, LARGE = "qwen2.5-coder:0.5b", "qwen2.5-coder:1.5b"
FREE = 1_000_000_000
LIMITED = """\
import os, runpy, sys, psutil
machine = psutil.virtual_memory
free = int(os.environ["OLLAMA_LSP_TEST_FREE_BYTES"])
psutil.virtual_memory = lambda: machine()._replace(available=free)
runpy.run_module("ollama_lsp", run_name="__main__", alter_sys=True)
"""


@pytest_asyncio.fixture(loop_scope="module")
async def client(ollama_double: OllamaDouble) -> AsyncIterator[LanguageClient]:
    """``ollama-lsp`` believing 1 GB is free, against a double with both Qwen models."""
    for name in (SMALL, LARGE):
        ollama_double.install(name)
    env = {**os.environ, "OLLAMA_HOST": ollama_double.host, "OLLAMA_LSP_TEST_FREE_BYTES": str(FREE)}
    command = [sys.executable, "-c", LIMITED, "--log-level", "INFO"]
    lsp = await ClientServerConfig(server_command=command, server_env=env).start()
    lsp.initialize_result = await lsp.initialize_session(
        types.InitializeParams(
            capabilities=inline_client_capabilities(),
            initialization_options=quiet_background(None),
        )
    )
    yield lsp
    await finish(lsp)


async def run(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def test_offers_the_small_model_and_warns_for_the_large_one(
    client: LanguageClient, ollama_double: OllamaDouble
) -> None:
    status = await run(client, "ollama.status")
    assert status["memory"]["available"] == FREE
    rows = {row["name"]: row for row in await run(client, "ollama.listModels")}
    assert rows[SMALL]["fitsInMemory"] is True
    assert rows[LARGE]["fitsInMemory"] is False
    need = {name: MEASURED[name][4096].need for name in (SMALL, LARGE)}
    assert rows[SMALL]["estimatedBytes"] < FREE < rows[LARGE]["estimatedBytes"]
    assert abs(rows[LARGE]["estimatedBytes"] - need[LARGE]) / need[LARGE] < 0.05

    large = await run(client, "ollama.selectModel", LARGE)
    warning = large["warning"]
    assert warning.startswith(f"{LARGE} needs about 1.4 GB; 1.0 GB is free, so it may swap. ")
    assert warning.endswith(" will fit.") and f"{SMALL} (needs 0.6 GB, installed)" in warning
    assert any(m.message == warning for m in client.messages)  # shown to the user
    assert large["model"] == LARGE  # a warning, not a refusal: it is loaded and selected

    small = await run(client, "ollama.selectModel", SMALL)
    assert small["warning"] is None and small["unloaded"] == LARGE
    loaded = (await run(client, "ollama.status"))["loaded"]
    assert [m["name"] for m in loaded] == [SMALL]
    assert loaded[0]["size"] == ps_size(SMALL, loaded[0]["contextLength"])  # Ollama's account
