"""Everything the double knows, shared between the test thread and the server's event loop.

Tests change installed models, scripts, faults and latency at any time from their own thread;
handlers read them on the server thread. One re-entrant lock guards it all and is never held
across an ``await``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import RLock
from typing import Any

from .catalogue import DEFAULT_INSTALLED, ModelSpec, library_spec
from .engines import Engine
from .engines.scripted import ScriptedEngine
from .faults import Fault
from .names import ModelName, parse_name
from .records import RecordBook
from .runners import Runner, Scheduler
from .tokens import Vocabulary

DEFAULT_ANSWER = "Hello from the Ollama double."


@dataclass
class Latency:
    """Simulated time costs, in seconds. Change them any time; the next use picks them up."""

    load_s: float = 0.0
    """A cold load, or a reload after runner options changed."""
    first_token_s: float = 0.0
    per_token_s: float = 0.0
    """Between streamed tokens after the first."""
    prompt_token_s: float = 0.0
    """Per prompt token actually evaluated (cached prefix tokens are free)."""
    pull_tick_s: float = 0.06
    """Between pull progress lines (Ollama's 60 ms ticker)."""


@dataclass
class Installed:
    name: ModelName
    spec: ModelSpec
    modified_at_ns: int

    @property
    def runner_key(self) -> str:
        """Ollama schedules runners per model file, so tags sharing a blob share a runner."""
        return self.spec.layers[0].digest


@dataclass
class Script:
    text: str
    model: str | None
    when: Callable[[dict], bool] | None
    times: int | None


class DoubleState:
    def __init__(
        self,
        installed: list[str] | tuple[str, ...] | None,
        version: str,
        *,
        log_requests: bool = False,
        engine: Engine | None = None,
    ) -> None:
        self.lock = RLock()
        self.version = version
        self.scripted = ScriptedEngine(self)
        self.engine: Engine = engine or self.scripted
        self.log_requests = log_requests
        self.latency = Latency()
        self.book = RecordBook()
        self.vocab = Vocabulary()
        self.ranked: dict[str, list[str]] = {}
        """Scripted tokens' ``top_logprobs`` set by tests (``OllamaDouble.rank``)."""
        self.clock_offset_s = 0.0
        self.stopping = False
        self.installed: dict[str, Installed] = {}
        self.scripts: list[Script] = []
        self.responder: Callable[[dict], str | None] | None = None
        self.faults: list[Fault] = []
        self.scheduler = Scheduler(
            self.lock,
            self.clock,
            self.wall_ns,
            lambda runner: self.engine_for(runner.spec).load(runner),
            self._release,
        )
        for name in DEFAULT_INSTALLED if installed is None else installed:
            self.install(name, modified_at_ns=None)

    # --- engines -------------------------------------------------------------------------------

    def engine_for(self, spec: ModelSpec) -> Engine:
        """The double's engine where it can run the model, else the scripted one (so a real
        engine can share a double with the scripted catalogue)."""
        return self.engine if self.engine.serves(spec) else self.scripted

    def _release(self, runner: Runner) -> None:
        self.engine_for(runner.spec).release(runner)

    @property
    def reports_evaluated_only(self) -> bool:
        """Ollama v0.30.0 alone reported only the evaluated prompt tokens (see inference)."""
        return self.version.split("-")[0] == "0.30.0"

    # --- time ---------------------------------------------------------------------------------

    def clock(self) -> float:
        """Monotonic seconds, plus however far tests moved the clock (for keep-alive expiry)."""
        return time.monotonic() + self.clock_offset_s

    def wall_ns(self) -> int:
        return time.time_ns() + round(self.clock_offset_s * 1e9)

    # --- models -------------------------------------------------------------------------------

    def install(self, name: str, *, modified_at_ns: int | None = 0) -> Installed:
        """Install a library model under ``name``. ``modified_at_ns=None`` uses the catalogue's
        fixed date (the default set); ``0`` means now (a fresh pull)."""
        parsed = parse_name(name)
        spec = library_spec(parsed.short) if parsed else None
        if parsed is None or spec is None:
            raise ValueError(f"{name!r} is not in the double's library")
        if modified_at_ns is None:
            modified_at_ns = spec.modified_at_ns
        elif modified_at_ns == 0:
            modified_at_ns = self.wall_ns()
        entry = Installed(parsed, spec, modified_at_ns)
        with self.lock:
            self.installed[parsed.key] = entry
        return entry

    def uninstall(self, name: ModelName) -> bool:
        with self.lock:
            removed = self.installed.pop(name.key, None)
        if removed is not None:
            self.scheduler.unload(removed.runner_key)
        return removed is not None

    def find(self, name: ModelName | None) -> Installed | None:
        if name is None:
            return None
        with self.lock:
            return self.installed.get(name.key)

    def copy_model(self, source: Installed, destination: ModelName) -> None:
        with self.lock:
            self.installed[destination.key] = Installed(destination, source.spec, self.wall_ns())

    def blobs_present(self) -> set[str]:
        with self.lock:
            return {layer.digest for m in self.installed.values() for layer in m.spec.layers}

    # --- scripted answers ---------------------------------------------------------------------

    def answer(self, body: dict[str, Any], model: str) -> str:
        """Newest matching script first (consuming ``times``), then the responder, then the
        default text."""
        key = parse_name(model)
        with self.lock:
            for script in reversed(self.scripts):
                if script.model is not None:
                    wanted = parse_name(script.model)
                    if wanted is None or key is None or wanted.key != key.key:
                        continue
                if script.when is not None and not script.when(body):
                    continue
                if script.times is not None:
                    script.times -= 1
                    if script.times == 0:
                        self.scripts.remove(script)
                return script.text
            responder = self.responder
        if responder is not None:
            text = responder(body)
            if text is not None:
                return text
        return DEFAULT_ANSWER

    # --- faults -------------------------------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        """The oldest fault for ``path``, consuming one of its ``times``."""
        with self.lock:
            for fault in self.faults:
                if fault.path != path:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None
