"""Ollama's scheduler in miniature: which models are loaded, with what, until when.

* A runner is loaded with fixed *runner options* (``num_ctx``, ``num_batch``, ``num_gpu``, ...);
  a request with different ones reloads it, losing its prompt cache (ollama/ollama#8903).
* One request at a time per model (``OLLAMA_NUM_PARALLEL=1``): others queue on its lock.
* The keep-alive timer starts when the last request finishes (ollama/ollama#9577);
  ``keep_alive`` 0 unloads then, negative keeps it forever. Expiry is checked lazily against the
  double's clock, which tests can move forward instead of sleeping.
* At most three models stay loaded (``OLLAMA_MAX_LOADED_MODELS`` on CPU); loading a fourth
  evicts the idle one that would expire first.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from .catalogue import ModelSpec
from .gotime import FOREVER, expiry_ns
from .measured import ps_size

DEFAULT_KEEP_ALIVE_S = 300.0
MAX_LOADED = 3


@dataclass
class Runner:
    key: str
    name: str
    spec: ModelSpec
    runner_options: tuple
    num_ctx: int
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    cache: list[str] = field(default_factory=list)
    active: int = 0
    expires_at: float | None = None
    """Clock seconds when it unloads (``inf`` = never); ``None`` while never idle yet."""
    expires_wall_ns: int | None = None
    unload_when_idle: bool = False
    engine_state: Any = None
    """What the engine loaded for this runner (a real engine's model and its KV cache)."""

    @property
    def size(self) -> int:
        """``/api/ps`` ``size``: a real model's as measured (``measured.py``), else weights
        plus f16 KV cache for the allocated context (§5.4)."""
        real = ps_size(self.spec.weights, self.num_ctx)
        return real if real is not None else self.spec.size + self.spec.arch.kv_bytes(self.num_ctx)


@dataclass
class Slot:
    runner: Runner
    loaded: bool
    reloaded: bool


class Scheduler:
    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        wall_ns: Callable[[], int],
        load: Callable[[Runner], Awaitable[None]],
        release: Callable[[Runner], None],
    ) -> None:
        self._lock = lock
        self._clock = clock
        self._wall_ns = wall_ns
        self._load = load
        self._release = release
        self._runners: dict[str, Runner] = {}
        self._slots: dict[str, asyncio.Lock] = {}

    # --- views (any thread) -------------------------------------------------------------------

    def current(self, key: str) -> Runner | None:
        with self._lock:
            self._expire()
            return self._runners.get(key)

    def loaded(self) -> list[Runner]:
        """Loaded runners, latest expiry first (``/api/ps`` order)."""
        with self._lock:
            self._expire()
            return sorted(self._runners.values(), key=self.expires_wall_ns, reverse=True)

    def expires_wall_ns(self, runner: Runner) -> int:
        """A busy (or never idle) runner shows now + its keep-alive, as Ollama's ps does."""
        if runner.active or runner.expires_wall_ns is None:
            return expiry_ns(self._wall_ns(), runner.keep_alive_s)
        return runner.expires_wall_ns

    def _expire(self) -> None:
        now = self._clock()
        for key, r in list(self._runners.items()):
            if not r.active and r.expires_at is not None and now >= r.expires_at:
                self._drop(key)

    def _drop(self, key: str) -> None:
        """Forget a runner and let its engine free it (only ever an idle one, or a replaced one
        whose request finished)."""
        runner = self._runners.pop(key, None)
        if runner is not None:
            self._release(runner)

    # --- changes ------------------------------------------------------------------------------

    def unload(self, key: str) -> None:
        with self._lock:
            runner = self._runners.get(key)
            if runner is None:
                return
            if runner.active:
                runner.unload_when_idle = True
            else:
                self._drop(key)

    def release_all(self) -> None:
        """Unload every idle runner now (the double is stopping: free real models' memory)."""
        with self._lock:
            for key, runner in list(self._runners.items()):
                if not runner.active:
                    self._drop(key)

    def _evict_for_new(self) -> None:
        idle = [r for r in self._runners.values() if not r.active]
        if len(self._runners) >= MAX_LOADED and idle:
            victim = min(idle, key=lambda r: r.expires_at if r.expires_at is not None else math.inf)
            self._drop(victim.key)

    def _finish(self, runner: Runner, keep_alive_s: float) -> None:
        with self._lock:
            runner.active -= 1
            runner.keep_alive_s = keep_alive_s
            if runner.active:
                return
            if runner.unload_when_idle or runner.keep_alive_s == 0:
                if self._runners.get(runner.key) is runner:
                    self._drop(runner.key)
                return
            ka = runner.keep_alive_s
            runner.expires_at = math.inf if ka == FOREVER else self._clock() + ka
            runner.expires_wall_ns = expiry_ns(self._wall_ns(), ka)

    def _needs(self, key: str, runner_options: tuple) -> str | None:
        runner = self.current(key)
        if runner is None:
            return "load"
        return "reload" if runner.runner_options != runner_options else None

    @asynccontextmanager
    async def slot(
        self,
        key: str,
        name: str,
        spec: ModelSpec,
        runner_options: tuple,
        num_ctx: int,
        keep_alive_s: float,
        *,
        exclusive: bool = True,
        on_phase: Callable[[str], None],
    ) -> AsyncIterator[Slot]:
        """Hold the model's runner for one request, loading or reloading it first if needed.

        ``exclusive=False`` (a load-only request) skips the queue when the right runner is
        already loaded, as Ollama's scheduler hands out a busy runner without waiting."""
        lock = self._slots.setdefault(key, asyncio.Lock())
        if not exclusive and self._needs(key, runner_options) is None:
            runner = self._acquire_loaded(key, keep_alive_s)
            try:
                yield Slot(runner, loaded=False, reloaded=False)
            finally:
                self._finish(runner, keep_alive_s)
            return
        if lock.locked():
            on_phase("queued")
        async with lock:
            need = self._needs(key, runner_options)
            if need is not None:
                on_phase("loading")
                with self._lock:
                    self._drop(key)
                fresh = Runner(key, name, spec, runner_options, num_ctx)
                try:
                    await self._load(fresh)
                except BaseException:
                    self._release(fresh)
                    raise
                with self._lock:
                    self._evict_for_new()
                    self._runners[key] = fresh
            runner = self._acquire_loaded(key, keep_alive_s)
            try:
                yield Slot(runner, loaded=need == "load", reloaded=need == "reload")
            finally:
                self._finish(runner, keep_alive_s)

    def _acquire_loaded(self, key: str, keep_alive_s: float) -> Runner:
        with self._lock:
            runner = self._runners[key]
            runner.active += 1
            runner.keep_alive_s = keep_alive_s
            runner.unload_when_idle = False
            return runner
