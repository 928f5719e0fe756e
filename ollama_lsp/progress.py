"""Work-done progress (``$/progress``) for slow work: pulls, model loads, slow completions.

One class serves all three because they differ only in timing: a pull starts its progress at
once and is cancellable; a completion's progress is armed only when the model is actually asked
(``start()``, not on entering: a request that is still waiting out the debounce is not
"generating"), and shows only if no answer came within a threshold after that, so fast
completions show nothing (no flicker in the status bar). It uses the
client's ``workDoneToken`` when the request carried one, else creates a token — but only if
the client said it supports work-done progress. Reports are throttled, and the token is
forgotten at the end (pygls keeps every token otherwise, which grows without bound in a
server that runs all day).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .protocol import OllamaProtocol

log = logging.getLogger(__name__)

#: Reports closer together than this are dropped (except the last before ``end``).
REPORT_INTERVAL_S = 0.1
#: A client that has not answered ``window/workDoneProgress/create`` by then never will.
CREATE_WAIT_S = 2.0


async def _create(ls: LanguageServer, token: str) -> None:
    """``window/workDoneProgress/create``, waiting at most ``CREATE_WAIT_S`` for the answer.

    pygls's ``create_async`` waits forever: a client that never answers would hang the pull,
    select or chat that wanted to show progress.
    """
    params = types.WorkDoneProgressCreateParams(token=token)
    protocol = ls.protocol
    if isinstance(protocol, OllamaProtocol):
        await protocol.request(types.WINDOW_WORK_DONE_PROGRESS_CREATE, params, CREATE_WAIT_S)
    else:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), CREATE_WAIT_S)


def client_supports_progress(ls: LanguageServer) -> bool:
    window = ls.client_capabilities.window if ls.client_capabilities else None
    return bool(window and window.work_done_progress)


class WorkDone:
    """Progress for one operation; use as ``async with WorkDone(...) as progress:``."""

    def __init__(
        self,
        ls: LanguageServer,
        title: str,
        *,
        token: types.ProgressToken | None = None,
        delay: float = 0.0,
        on_start: bool = False,
        cancellable: bool = False,
        on_cancel: Callable[[], Any] | None = None,
    ) -> None:
        self._ls = ls
        self._title = title
        self._token = token
        self._delay = delay
        self._on_start = on_start
        self._cancellable = cancellable
        self._on_cancel = on_cancel
        self._enabled = token is not None or client_supports_progress(ls)
        self._starter: asyncio.Task[None] | None = None
        self._begun = False
        self._last_report = 0.0
        self._pending: types.WorkDoneProgressReport | None = None

    @property
    def begun(self) -> bool:
        return self._begun

    async def __aenter__(self) -> WorkDone:
        """Begin now (or ``delay`` from now); with ``on_start=True`` wait for ``start()``."""
        if self._enabled and not self._on_start:
            if self._delay <= 0:
                await self._begin()
            else:
                self.start()
        return self

    def start(self) -> None:
        """Arm the progress: it begins ``delay`` from now. Later calls change nothing."""
        if self._enabled and self._starter is None and not self._begun:
            self._starter = asyncio.create_task(self._begin_later())

    async def __aexit__(self, *exc_info: object) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter
        failed = exc_info[0] is not None
        self.end("failed" if failed else None)

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        """Send a report now, or hold it until the interval has passed."""
        if not self._enabled:
            return  # called once per streamed token: stay free when nobody listens
        value = types.WorkDoneProgressReport(
            message=message, percentage=percentage, cancellable=self._cancellable or None
        )
        if not self._begun:
            self._pending = value
            return
        now = time.monotonic()
        if now - self._last_report < REPORT_INTERVAL_S:
            self._pending = value
            return
        self._send_report(value, now)

    def end(self, message: str | None = None) -> None:
        if not self._begun or self._token is None:
            return
        if self._pending is not None:
            self._send_report(self._pending, time.monotonic())
        self._begun = False
        progress = self._ls.work_done_progress
        progress.end(self._token, types.WorkDoneProgressEnd(message=message))
        progress.tokens.pop(self._token, None)

    async def _begin_later(self) -> None:
        await asyncio.sleep(self._delay)
        await self._begin()

    async def _begin(self) -> None:
        progress = self._ls.work_done_progress
        if self._token is None:
            token = f"ollama-lsp/{uuid.uuid4()}"
            try:
                await _create(self._ls, token)
            except TimeoutError:
                log.info("no answer to window/workDoneProgress/create: carrying on without")
                return
            except Exception as exc:  # a client may refuse; progress is a nicety
                log.debug("client refused a progress token: %s", exc)
                return
            self._token = token
        progress.begin(
            self._token,
            types.WorkDoneProgressBegin(
                title=self._title, cancellable=self._cancellable or None, percentage=0
            ),
        )
        self._begun = True
        if self._on_cancel is not None and self._token in progress.tokens:
            on_cancel = self._on_cancel
            progress.tokens[self._token].add_done_callback(
                lambda future: on_cancel() if future.cancelled() else None
            )
        if self._pending is not None:
            self._send_report(self._pending, time.monotonic())

    def _send_report(self, value: types.WorkDoneProgressReport, now: float) -> None:
        assert self._token is not None
        self._ls.work_done_progress.report(self._token, value)
        self._last_report = now
        self._pending = None
