"""Starting an exchange, reading a whole answer, or reading a stream's lines — the same way for
every backend.

What can go wrong is the same whatever the server speaks: the pool ran dry (replace it if
connections were lost inside httpcore, then retry once), nothing listens (or the certificate is
not trusted), a keep-alive connection the server had closed — after a restart, say — fails
before an answer (retry once on a fresh one), the answer does not come in time, is too large,
or breaks off. Only the error *types* differ, so each backend passes its own ``Failures``;
what a line or a body *means* (NDJSON, SSE, error bodies) stays the backend's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol

import httpx

from ..provider.errors import CertificateUntrusted, ProviderError
from .connections import Connections
from .exchange import Exchange, TooLarge
from .tls import certificate_problem

log = logging.getLogger(__name__)

#: How long to wait for the end of a response body after its last line.
DRAIN_TIMEOUT_S = 0.5


class Failures(Protocol):
    """The backend's errors for what can fail before a response starts."""

    def pool_exhausted(self, host: str, connections: int, what: str) -> ProviderError: ...

    def unreachable(self, host: str) -> ProviderError: ...

    def no_response(self, detail: str, what: str) -> ProviderError: ...

    def timeout(self, host: str, seconds: float, what: str) -> ProviderError: ...

    def too_large(self, detail: str, what: str) -> ProviderError: ...

    def broken(self, host: str, detail: str, what: str) -> ProviderError: ...


async def open_exchange(
    connections: Connections,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    what: str,
    *,
    lines: bool,
    failures: Failures,
) -> tuple[Exchange, httpx.Response]:
    """An exchange whose response headers have arrived; typed errors otherwise."""
    host = connections.endpoint.display
    for attempt in (1, 2):
        exchange = connections.start(method, path, body, lines=lines)
        try:
            return exchange, await exchange.head()
        except httpx.PoolTimeout:
            if not _pool_lost(connections, exchange) or attempt == 2:
                raise failures.pool_exhausted(host, connections.max_connections, what) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            problem = certificate_problem(exc)
            if problem is not None:
                raise CertificateUntrusted(host, problem) from exc
            raise failures.unreachable(host) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if attempt == 2:
                raise _unanswered(failures, exc, what) from exc
            log.debug("%s %s: closed before an answer (%s); retrying", method, path, exc)
        except httpx.TransportError as exc:
            raise _unanswered(failures, exc, what) from exc
        except BaseException:
            exchange.abort()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


async def read_whole(
    connections: Connections,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    what: str,
    *,
    within: float,
    failures: Failures,
) -> tuple[httpx.Response, bytes]:
    """A whole (small) answer within ``within`` seconds: its response and body."""
    exchange: Exchange | None = None
    try:
        async with asyncio.timeout(within):
            exchange, response = await open_exchange(
                connections, method, path, body, what, lines=False, failures=failures
            )
            content = await exchange.body()
        await exchange.settle(DRAIN_TIMEOUT_S)
    except TimeoutError:
        raise failures.timeout(connections.endpoint.display, within, what) from None
    except TooLarge as exc:
        raise failures.too_large(str(exc), what) from None
    except httpx.TransportError as exc:
        raise failures.no_response(describe(exc), what) from exc
    finally:
        if exchange is not None:
            exchange.abort()
    return response, content


class LineStream:
    """A streamed answer, line by line: ``async with LineStream(...) as stream`` opens it
    (headers within ``first_byte_timeout``; an error status is read and handed to ``check``,
    which raises), ``stream.lines()`` reads it, ``stream.finish()`` lets the end of the body
    arrive so the connection is kept, and leaving the block closes it — which is how a server
    learns to stop generating."""

    def __init__(
        self,
        connections: Connections,
        path: str,
        body: dict[str, Any],
        what: str,
        *,
        first_byte_timeout: float,
        failures: Failures,
        check: Callable[[httpx.Response, bytes], Awaitable[None]],
    ) -> None:
        self._connections, self._path, self._body, self._what = connections, path, body, what
        self._first_byte_timeout = first_byte_timeout
        self._failures = failures
        self._check = check
        self._exchange: Exchange | None = None

    async def __aenter__(self) -> LineStream:
        host = self._connections.endpoint.display
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                self._exchange, response = await open_exchange(
                    self._connections, "POST", self._path, self._body, self._what,
                    lines=True, failures=self._failures,
                )  # fmt: skip
                if not response.is_success:
                    await self._check(response, await self._exchange.body())
        except TimeoutError:
            self._close()
            raise self._failures.timeout(host, self._first_byte_timeout, self._what) from None
        except TooLarge as exc:
            self._close()
            raise self._failures.too_large(str(exc), self._what) from None
        except BaseException:
            self._close()
            raise
        return self

    async def lines(self) -> AsyncIterator[bytes]:
        assert self._exchange is not None, "use LineStream in `async with`"
        try:
            async for line in self._exchange.iter_lines():
                yield line
        except TooLarge as exc:
            raise self._failures.too_large(str(exc), self._what) from None
        except httpx.TransportError as exc:
            host = self._connections.endpoint.display
            raise self._failures.broken(host, describe(exc), self._what) from exc

    async def finish(self) -> None:
        """The answer is complete: wait briefly for the body's end, so the connection is kept."""
        if self._exchange is not None:
            await self._exchange.settle(DRAIN_TIMEOUT_S)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        if self._exchange is not None:
            self._exchange.abort()  # a no-op once the stream was read to its end


def _unanswered(failures: Failures, exc: Exception, what: str) -> ProviderError:
    error = failures.no_response(f"no response ({describe(exc)})", what)
    error.unanswered = True
    return error


def _pool_lost(connections: Connections, exchange: Exchange) -> bool:
    """After a pool timeout: rebuild the pool if connections were lost; retry if so."""
    if exchange.http is not connections.http:
        return True  # another request already replaced the pool
    if connections.wedged(exchange):
        connections.rebuild()
        return True
    return False


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
