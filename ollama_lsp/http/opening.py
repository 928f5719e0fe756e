"""Starting an exchange and waiting for its headers, the same way for every backend.

What can go wrong before a response starts is the same whatever the server speaks: the pool
ran dry (replace it if connections were lost inside httpcore, then retry once), nothing
listens (or the certificate is not trusted), or a keep-alive connection the server had
closed — after a restart, say — fails before an answer (retry once on a fresh one). Only the
error *types* differ, so each backend passes its own ``Failures``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

from ..provider.errors import CertificateUntrusted, ProviderError
from .connections import Connections
from .exchange import Exchange
from .tls import certificate_problem

log = logging.getLogger(__name__)


class Failures(Protocol):
    """The backend's errors for what can fail before a response starts."""

    def pool_exhausted(self, host: str, connections: int, what: str) -> ProviderError: ...

    def unreachable(self, host: str) -> ProviderError: ...

    def no_response(self, detail: str, what: str) -> ProviderError: ...


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
