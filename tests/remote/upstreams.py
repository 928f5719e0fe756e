"""Ollama doubles that die like a host does and come back on the same port.

``kill()`` stops the double: its streams are cut, its connections closed and its port refuses
new ones, which is what a crashed ``ollama serve`` or a rebooted box looks like from outside.
``restart()`` starts a fresh double (an empty prompt cache, no records: a new process) on the
same port, with the same models and scripted answer.
"""

from __future__ import annotations

from tests.e2e.conftest import generate_calls
from tests.ollama_double import OllamaDouble, RecordedRequest


class Upstream:
    """One double on a fixed port, answering every completion with ``answer``."""

    def __init__(self, name: str, answer: str, *, per_token_s: float = 0.0) -> None:
        self.name, self.answer, self.per_token_s = name, answer, per_token_s
        self.port = 0
        self.restarts = 0
        self.double: OllamaDouble | None = self._start()
        self.port = self.double.port

    def _start(self) -> OllamaDouble:
        double = OllamaDouble(port=self.port).start()
        double.latency.per_token_s = self.per_token_s
        double.script(self.answer)
        return double

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as nginx's ``server`` lines and ``OLLAMA_HOST`` take it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def alive(self) -> bool:
        return self.double is not None

    def kill(self) -> None:
        if self.double is not None:
            self.double.stop()
            self.double = None

    def restart(self) -> None:
        """A new double on the same port (the old one is killed first if it still runs)."""
        self.kill()
        self.double = self._start()
        self.restarts += 1

    def completions(self) -> list[RecordedRequest]:
        """The generate requests that asked this (current) double for text."""
        return generate_calls(self.double) if self.double is not None else []

    def close(self) -> None:
        self.kill()

    def __repr__(self) -> str:
        return f"<Upstream {self.name} {self.host} {'up' if self.alive else 'killed'}>"
