"""The two real engines, each on 1 thread, and what each request cost them.

- ``double``: the repository's Ollama double with its real llama.cpp engine
  (``OllamaDouble(installed=[model], engine=LlamaEngine(threads=1))``): our server talks
  Ollama's API to it. Its records say when each request arrived, when its first token left,
  when it finished, and how long its prompt was and how many of its tokens were really
  evaluated (the rest came from the prompt cache), from when evaluation started.
- ``llama-server``: llama.cpp's own server (``tests/real/llama_server.py``: shared slots,
  ``--cache-reuse 256``, ``--metrics``; ``--no-cache-idle-slots`` as the README asks) behind a recording proxy (``proxy.py``): our server
  with ``api: "openai"``, llama.vim on ``/infill``. Evaluated tokens and compute time come from
  its ``/metrics``, read by the driver when typing starts and ends; per request, the answer's
  ``timings`` (``prompt_n`` evaluated, ``cache_n`` taken from the chosen slot's cache: in a
  JSON answer and in a stream's last event, one-token requests included). A stream the client
  left before its last event has them only if it asked for ``return_progress`` (its
  ``prompt_progress`` events: ``total``, ``cache``, ``processed`` from the start of prompt
  processing); otherwise it has none.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tests.ollama_double.records import RecordedRequest

    from .proxy import Exchange, RecordingProxy

ENGINES = ("double", "llama-server")


@dataclass
class EngineRequest:
    """One request as the engine saw it (times: ``time.monotonic()`` seconds)."""

    path: str
    body: dict[str, Any]
    arrive: float
    first: float | None
    finish: float | None
    evaluated: int | None
    """Prompt tokens evaluated (not taken from a cache); None when the engine did not say."""
    answer: str
    engine_end: float | None = None
    """When the engine stopped working on it (``inf``: not yet): after a cancel, llama-server
    still finishes the batch it is in (from its log); the double's record ends when its
    worker stopped."""
    prompt_tokens: int | None = None
    """The whole prompt in tokens, cached ones included; None when the engine did not say."""
    cached: int | None = None
    """Prompt tokens taken from the engine's cache (llama-server: from the slot it chose)."""

    @property
    def busy_until(self) -> float | None:
        return self.engine_end or self.finish

    @property
    def one_token(self) -> bool:
        """A prefill: a generation of one token, asked only to evaluate the prompt."""
        options = self.body.get("options") or {}
        asked = options.get("num_predict", self.body.get("max_tokens", self.body.get("n_predict")))
        return asked in (0, 1)


@dataclass
class Engine:
    name: str
    model: str
    host: str
    """Where our server sends its requests."""
    api: str
    infill: str | None = None
    """llama.vim's endpoint (llama-server only)."""
    metrics_url: str | None = None
    _double: Any = None
    _proxy: RecordingProxy | None = None
    _server: Any = None
    _anchor: tuple[float, float] = (0.0, 0.0)
    """(llama-server's log clock, time.monotonic()) at the same moment: its "listening" line."""

    @property
    def metrics_text(self) -> Callable[[], str] | None:
        """Reads llama-server's ``/metrics`` (the double keeps per-request records instead)."""
        if self.metrics_url is None:
            return None
        url = self.metrics_url

        def read() -> str:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()

        return read

    def idle(self) -> bool:
        """No request is being worked on now."""
        if self._double is not None:
            return not getattr(self._double.engine, "busy", False)
        try:
            m = self._server.metrics()
            return m.get("requests_processing", 0) == 0 and m.get("requests_deferred", 0) == 0
        except OSError:
            return False

    def requests(self) -> list[EngineRequest]:
        """Every completion request so far (model loads left out)."""
        if self._double is not None:
            return [
                from_record(r)
                for r in self._double.requests_to("/api/generate")
                if isinstance(r.body, dict) and r.body.get("prompt")
            ]
        assert self._proxy is not None
        found = [
            from_exchange(x)
            for x in self._proxy.snapshot()
            if x.path in ("/infill", "/v1/completions", "/completion", "/completions")
        ]
        ends = _slot_ends(list(self._server.lines), self._anchor)
        for request, task in zip(sorted(found, key=lambda r: r.arrive), sorted(ends), strict=False):
            request.engine_end = ends[task]
        return found

    def reset(self) -> None:
        if self._double is not None:
            self._double.reset_records()
        elif self._proxy is not None:
            with self._proxy._lock:
                self._proxy.exchanges.clear()


_STAMP = r"^(\d+)\.(\d+)\.(\d+)\.(\d+) "
_LAUNCH = re.compile(_STAMP + r".*launch_slot_: id\s+\d+ \| task (\d+)")
_RELEASE = re.compile(_STAMP + r".*release: id\s+\d+ \| task (\d+)")
_CANCEL = re.compile(_STAMP + r".*cancel task, id_task = (\d+)")
_LISTENING = re.compile(_STAMP + r".*listening on http")


def _stamp(m: re.Match[str]) -> float:
    minutes, seconds, ms, us = (int(g) for g in m.groups()[:4])
    return minutes * 60 + seconds + ms / 1e3 + us / 1e6


def _slot_ends(lines: list[str], anchor: tuple[float, float]) -> dict[int, float]:
    """Per completion task (ids in arrival order: one per completion request), when its slot
    was released, or when it was cancelled if it never ran (``inf``: still running); in
    ``time.monotonic()``."""
    log_at, mono_at = anchor
    ends: dict[int, float] = {}
    launched: set[int] = set()
    for line in lines:
        for pattern in (_RELEASE, _CANCEL, _LAUNCH):
            m = pattern.search(line)
            if m:
                task = int(m.group(5))
                if pattern is _LAUNCH:
                    launched.add(task)
                    ends.setdefault(task, math.inf)  # still running
                elif pattern is _RELEASE or task not in launched:
                    ends[task] = _stamp(m) - log_at + mono_at
                break
    return ends


def log_anchor(lines: list[str]) -> tuple[float, float]:
    """The log time of the "listening" line, paired with now (read as soon as it was written)."""
    now = time.monotonic()
    for line in lines:
        m = _LISTENING.search(line)
        if m:
            return _stamp(m), now
    return 0.0, now


def from_record(r: RecordedRequest) -> EngineRequest:
    """A request from the double's record: ``prompt_tokens`` is the prompt after truncation,
    ``prompt_eval_count`` the tokens evaluated past the cached prefix (both None when it was
    cancelled before evaluation started)."""
    cached = None
    if r.prompt_tokens is not None and r.prompt_eval_count is not None:
        cached = r.prompt_tokens - r.prompt_eval_count
    return EngineRequest(
        r.path, r.body, r.started, r.first_byte_at, r.finished, r.prompt_eval_count,
        r.response_text, prompt_tokens=r.prompt_tokens, cached=cached,
    )  # fmt: skip


def from_exchange(x: Exchange) -> EngineRequest:
    """A request from the proxy's record of a llama-server exchange (numbers: its answer's)."""
    said = _answer(bytes(x.data))
    return EngineRequest(
        x.path, x.body, x.arrive, x.first, x.finish, said.evaluated, said.text,
        prompt_tokens=said.prompt_tokens, cached=said.cached,
    )  # fmt: skip


class Said(NamedTuple):
    """What a llama-server answer says about its prompt (None: it did not say)."""

    text: str
    prompt_tokens: int | None
    cached: int | None
    evaluated: int | None


def _answer(data: bytes) -> Said:
    """A llama-server answer, one JSON or an SSE stream: its text, and its prompt's numbers
    from the last ``timings`` seen (the final event's; with ``timings_per_token`` every event
    repeats the prompt's, so they are not summed), or else from ``prompt_progress`` events
    (sent with ``return_progress`` from the start of prompt processing: a stream cancelled
    before its final event still says what it took from the cache)."""
    text = data.decode("utf-8", "replace")
    events = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    if not events:
        events = [text]
    parts: list[str] = []
    timings: dict[str, Any] = {}
    progress: list[dict[str, Any]] = []
    for event in events:
        try:
            obj = json.loads(event)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        if isinstance(obj.get("timings"), dict) and isinstance(obj["timings"].get("prompt_n"), int):
            timings = obj["timings"]
        if isinstance(obj.get("prompt_progress"), dict):
            progress.append(obj["prompt_progress"])
        if isinstance(obj.get("content"), str):
            parts.append(obj["content"])
        for choice in obj.get("choices") or []:
            if isinstance(choice, dict) and isinstance(choice.get("text"), str):
                parts.append(choice["text"])
    answer = "".join(parts)
    if timings:
        evaluated, cached = timings["prompt_n"], _int(timings.get("cache_n"))
        whole = evaluated + cached if cached is not None else None
        return Said(answer, whole, cached, evaluated)
    if progress:
        cached, whole = _int(progress[0].get("cache")), _int(progress[0].get("total"))
        done = _int(progress[-1].get("processed"))
        evaluated = done - cached if done is not None and cached is not None else None
        return Said(answer, whole, cached, evaluated)
    return Said(answer, None, None, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def available(name: str, model: str) -> str | None:
    """Why ``name`` cannot serve ``model`` here, or None."""
    from tests.real import models

    if models.weights_path(model) is None:
        return f"the weights of {model} are not installed"
    if name == "double" and not models.engine_installed():
        return "llama-cpp-python is not installed"
    if name == "llama-server":
        from tests.real.llama_server import BUILD, binary

        if binary() is None:
            return f"llama-server is not built ({BUILD})"
    return None


@contextlib.contextmanager
def start(name: str, model: str) -> Iterator[Engine]:
    """The engine ``name`` serving ``model`` on 1 thread, loaded and ready."""
    import httpx

    from .proxy import RecordingProxy

    if name == "double":
        from tests.ollama_double import OllamaDouble
        from tests.ollama_double.engines.llama import LlamaEngine

        with OllamaDouble(installed=[model], engine=LlamaEngine(threads=1)) as double:
            httpx.post(f"{double.url}/api/generate", json={"model": model}, timeout=300)
            yield Engine(name, model, double.url, "ollama", _double=double)
        return
    from tests.real.llama_server import LlamaServer
    from tests.real.models import weights_path

    weights = weights_path(model)
    assert weights is not None
    # --no-cache-idle-slots as our README asks: idle slots keep their prompt (by default
    # a task in one slot clears the others), so a prefill can grow in our spare slot
    with LlamaServer(weights, alias=model, threads=1, extra=("--no-cache-idle-slots",)) as server:
        anchor = log_anchor(server.lines)
        with RecordingProxy(server.url) as proxy:
            yield Engine(
                name, model, proxy.url, "openai", infill=f"{proxy.url}/infill",
                metrics_url=f"{server.url}/metrics", _proxy=proxy, _server=server,
                _anchor=anchor,
            )  # fmt: skip
