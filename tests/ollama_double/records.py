"""What the double saw and did, per request, observable from any thread or event loop.

The server thread creates and updates records; tests read copies. Every change wakes
``wait_for`` (a ``threading.Condition``) and every ``wait_for_async`` (an ``asyncio.Event`` set
in the waiter's own loop), so tests wait on conditions rather than sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    id: int
    method: str
    path: str
    body: Any
    """The request body parsed as JSON, or ``None`` (no body, or not JSON)."""
    started: float = field(default_factory=time.monotonic)
    status: int | None = None
    """HTTP status once headers went out; 499 when the client hung up before that."""
    phase: str = "received"
    """received -> queued -> loading -> evaluating -> streaming -> finished."""
    model: str | None = None
    """The model name as sent."""
    rendered_prompt: str | None = None
    prompt_tokens: int | None = None
    truncated: bool = False
    prompt_eval_count: int | None = None
    """Prompt tokens the engine actually evaluated (the rest came from its prompt cache).
    The wire's ``prompt_eval_count`` is the whole prompt, as Ollama reports it."""
    prompt_token_ids: list[int] | None = None
    """The prompt's token ids after truncation (the real vocabulary's with the llama engine)."""
    eval_count: int | None = None
    loaded: bool = False
    """This request cold-loaded the model."""
    reloaded: bool = False
    """This request reloaded a loaded model because runner options changed."""
    chunks_sent: int = 0
    """NDJSON lines written (stream responses only)."""
    response_text: str = ""
    error: str | None = None
    fault: str | None = None
    disconnected: bool = False
    """The client hung up before the response was complete."""
    first_byte_at: float | None = None
    finished: float | None = None
    peer: str = ""
    """The client's ``host:port``: the same for requests that reused one keep-alive connection."""

    @property
    def done(self) -> bool:
        return self.finished is not None


class RecordBook:
    def __init__(self) -> None:
        self._records: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._next_id = 1

    def start(self, method: str, path: str, body: Any, peer: str = "") -> RecordedRequest:
        with self._cond:
            record = RecordedRequest(self._next_id, method, path, body, peer=peer)
            self._next_id += 1
            self._records.append(record)
        self._notify()
        return record

    def update(self, record: RecordedRequest, **changes: Any) -> None:
        with self._cond:
            for name, value in changes.items():
                setattr(record, name, value)
        self._notify()

    def add_text(self, record: RecordedRequest, text: str) -> None:
        with self._cond:
            record.chunks_sent += 1
            record.response_text += text
            if record.first_byte_at is None:
                record.first_byte_at = time.monotonic()
        self._notify()

    def snapshot(self) -> list[RecordedRequest]:
        with self._cond:
            return [dataclasses.replace(r) for r in self._records]

    def reset(self) -> None:
        with self._cond:
            self._records.clear()
        self._notify()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def _match(self, predicate: Callable[[RecordedRequest], bool]) -> RecordedRequest | None:
        return next((r for r in self.snapshot() if predicate(r)), None)

    def _timeout_error(self, timeout: float) -> TimeoutError:
        lines = [describe(r) for r in self.snapshot()] or ["(no requests)"]
        return TimeoutError(
            f"no recorded request matched within {timeout}s; records:\n  " + "\n  ".join(lines)
        )

    def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float,
    ) -> RecordedRequest:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := self._match(predicate)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(timeout)
                self._cond.wait(remaining)
        return found

    async def wait_for_async(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float,  # noqa: ASYNC109 - the same signature as wait_for()
    ) -> RecordedRequest:
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._cond:
            self._async_waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while (found := self._match(predicate)) is None:
                    await event.wait()
                    event.clear()
        except TimeoutError:
            raise self._timeout_error(timeout) from None
        finally:
            with self._cond:
                self._async_waiters.discard(waiter)
        return found


def describe(r: RecordedRequest) -> str:
    state = "disconnected" if r.disconnected else r.phase
    extra = f" model={r.model!r}" if r.model else ""
    extra += f" fault={r.fault}" if r.fault else ""
    extra += f" error={r.error!r}" if r.error else ""
    return f"#{r.id} {r.method} {r.path} -> {r.status} [{state}] chunks={r.chunks_sent}{extra}"
