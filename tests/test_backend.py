"""The backend builds the clients from the settings: headers expanded once, checked, and
registered as secrets; problems told, the rest built anyway."""

from __future__ import annotations

import pytest

from ollama_lsp.backend import Backend, BackendConfig
from ollama_lsp.http.endpoint import parse_endpoint
from ollama_lsp.redact import mask, secret_filter

TOKEN = "olt-backend-7c1e"


def sent_headers(backend: Backend) -> dict[str, str]:
    (member,) = backend.pool.members
    return dict(member.provider.client._connections.http.headers)  # type: ignore[attr-defined]


def config(**headers: str) -> BackendConfig:
    return BackendConfig((parse_endpoint("http://gpu:11434"),), headers=tuple(headers.items()))


async def test_an_env_reference_is_expanded_sent_and_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_LSP_TEST_TOKEN", TOKEN)
    backend = Backend(config(Authorization="Bearer ${env:OLLAMA_LSP_TEST_TOKEN}"))
    assert sent_headers(backend)["authorization"] == f"Bearer {TOKEN}"
    assert backend.problems == []
    assert TOKEN not in mask(f"x-whatever {TOKEN}", secret_filter.secrets)
    await backend.aclose()


async def test_a_missing_variable_is_named_and_the_header_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OLLAMA_LSP_TEST_MISSING", raising=False)
    backend = Backend(config(Authorization="Bearer ${env:OLLAMA_LSP_TEST_MISSING}"))
    assert "authorization" not in sent_headers(backend)
    (problem,) = backend.problems
    assert "OLLAMA_LSP_TEST_MISSING" in problem and "ollama.headers.Authorization" in problem
    await backend.aclose()


async def test_a_value_that_cannot_be_sent_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_LSP_TEST_BAD", f"{TOKEN}\r\nX-Injected: 1")
    backend = Backend(config(Authorization="Bearer ${env:OLLAMA_LSP_TEST_BAD}"))
    assert "authorization" not in sent_headers(backend)
    (problem,) = backend.problems
    assert "not a valid header value" in problem and TOKEN not in problem
    await backend.aclose()


async def test_equal_settings_keep_the_clients() -> None:
    backend = Backend(config(X_Team="ml"))
    (member,) = backend.pool.members
    assert backend.configure(config(X_Team="ml")) is False
    assert backend.pool.members == [member]
    assert backend.configure(config(X_Team="ai")) is True
    assert backend.pool.members != [member]
    await backend.aclose()
