"""Shared fixtures: the Ollama double and an address where nothing listens."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.ollama_double import OllamaDouble


@pytest.fixture
def ollama_double() -> Iterator[OllamaDouble]:
    """A started double with the default installed models, stopped after the test."""
    with OllamaDouble() as double:
        yield double


@pytest.fixture
def closed_port_host() -> str:
    """``127.0.0.1:PORT`` with nothing listening: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"
