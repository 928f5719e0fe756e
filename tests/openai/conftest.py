"""Fixtures of the OpenAI-compatible provider's tests: the fake server and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ollama_lsp.openai import OpenAIClient, OpenAIProvider
from tests.remote.conftest import start_remote  # noqa: F401  (the language server, on stdio)

from .fake_server import FakeOpenAI


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(fake.url)
    yield c
    await c.aclose()


@pytest.fixture
def provider(client: OpenAIClient) -> OpenAIProvider:
    return OpenAIProvider(client)
