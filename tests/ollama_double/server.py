"""``OllamaDouble``: the fake Ollama server, running in a thread with its own event loop.

Its own loop and thread let sync clients in the test thread, async clients in the test's loop
and an LSP server subprocess (via ``OLLAMA_HOST``) all talk to it over real HTTP at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web

from .app import TASKS, build_app
from .engines import Engine
from .faults import Fault, validate
from .names import parse_name
from .records import RecordedRequest
from .runners import Runner
from .state import DoubleState, Latency, Script

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0


class OllamaDouble:
    """A protocol-faithful Ollama on ``127.0.0.1`` (see the package docstring for the API)."""

    def __init__(
        self,
        *,
        installed: list[str] | tuple[str, ...] | None = None,
        version: str = "0.12.0",
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        engine: Engine | None = None,
    ) -> None:
        """``engine``: what runs the models it can (``engines.llama.LlamaEngine`` for the real
        ones); the scripted engine runs the rest, and everything by default."""
        self._state = DoubleState(installed, version, log_requests=log_requests, engine=engine)
        self._bind = (host, port)
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> OllamaDouble:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._startup())
            except BaseException as err:  # reported to the starting thread
                failure.append(err)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="ollama-double", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT_S):
            raise RuntimeError("the Ollama double did not start in time")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    async def _startup(self) -> None:
        self._app = build_app(self._state)
        self._runner = web.AppRunner(
            self._app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._bind[0], self._bind[1])
        await site.start()
        self._port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Stop serving; hung or slow streams are cancelled rather than waited for."""
        if self._thread is None or self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(_STOP_TIMEOUT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_STOP_TIMEOUT_S)
            self._thread = None

    async def _shutdown(self) -> None:
        self._state.stopping = True
        assert self._app is not None and self._runner is not None
        tasks = set(self._app[TASKS])
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT_S / 2)
        await self._runner.cleanup()
        self._state.scheduler.release_all()

    def __enter__(self) -> OllamaDouble:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the form ``OLLAMA_HOST`` takes."""
        if self._port is None:
            raise RuntimeError("the Ollama double is not started")
        return f"{self._bind[0]}:{self._port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the Ollama double is not started")
        return self._port

    # --- behaviour ----------------------------------------------------------------------------

    @property
    def latency(self) -> Latency:
        return self._state.latency

    @latency.setter
    def latency(self, value: Latency) -> None:
        self._state.latency = value

    @property
    def engine(self) -> Engine:
        """The engine given at construction (the scripted one by default)."""
        return self._state.engine

    @property
    def version(self) -> str:
        return self._state.version

    @version.setter
    def version(self, value: str) -> None:
        self._state.version = value

    def install(self, name: str) -> None:
        """Install a library model now (as a finished pull would)."""
        self._state.install(name)

    def uninstall(self, name: str) -> None:
        parsed = parse_name(name)
        if parsed is None or not self._state.uninstall(parsed):
            raise ValueError(f"{name!r} is not installed")

    @property
    def installed(self) -> list[str]:
        with self._state.lock:
            return sorted(m.name.short for m in self._state.installed.values())

    def loaded(self) -> list[Runner]:
        """Loaded runners, as ``/api/ps`` lists them."""
        return self._state.scheduler.loaded()

    def advance_clock(self, seconds: float) -> None:
        """Move the double's clock forward (keep-alive expiry) instead of sleeping."""
        with self._state.lock:
            self._state.clock_offset_s += seconds

    def script(
        self,
        text: str,
        *,
        model: str | None = None,
        when: Callable[[dict], bool] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer generate/chat requests with ``text``. Newest scripts are tried first; ``when``
        sees the request body; ``times`` limits how many requests it answers (None = all)."""
        with self._state.lock:
            self._state.scripts.append(Script(text, model, when, times))

    def rank(self, token: str, alternatives: list[str]) -> None:
        """When a scripted answer samples ``token``, report ``alternatives`` (most probable
        first) as its ``top_logprobs``; leave ``token`` out for a sample from outside them."""
        with self._state.lock:
            self._state.ranked[token] = list(alternatives)

    def set_responder(self, fn: Callable[[dict], str | None] | None) -> None:
        """Fallback when no script matches: ``fn(body)`` -> text, or None for the default."""
        with self._state.lock:
            self._state.responder = fn

    def clear_scripts(self) -> None:
        with self._state.lock:
            self._state.scripts.clear()
            self._state.responder = None

    def inject_fault(
        self,
        kind: str,
        *,
        path: str = "/api/generate",
        after_chunks: int = 0,
        message: str | None = None,
        status: int = 500,
        times: int | None = 1,
    ) -> None:
        """Break the next ``times`` valid requests to ``path`` (oldest fault first)."""
        validate(kind, after_chunks, times)
        with self._state.lock:
            self._state.faults.append(Fault(kind, path, after_chunks, message, status, times))

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    # --- records ------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copies of every request recorded so far, oldest first."""
        return self._state.book.snapshot()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def reset_records(self) -> None:
        self._state.book.reset()

    def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """Block until a record satisfies ``predicate``; raises TimeoutError listing records."""
        return self._state.book.wait_for(predicate, timeout)

    async def wait_for_async(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the same signature as wait_for()
    ) -> RecordedRequest:
        return await self._state.book.wait_for_async(predicate, timeout)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"<OllamaDouble {where} installed={self.installed}>"
