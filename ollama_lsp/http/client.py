"""What every backend's client is made of: one connection pool to one endpoint, with the limits
and timeouts a server we do not control must live within.

``OllamaClient`` and ``OpenAIClient`` add their API on top; the pool, the endpoint shown to
users, the caps on what we read and the budget of a stream's text are the same for both.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping

import httpx

from .connections import MAX_CONNECTIONS, Connections
from .endpoint import Endpoint, parse_endpoint
from .exchange import Limits

#: How long a request may wait for a free connection before the pool counts as exhausted.
POOL_TIMEOUT_S = 3.0
#: NDJSON and SSE lines are a few hundred bytes; a pull status line is the longest kind.
MAX_LINE_BYTES = 4 * 2**20
#: ``/api/show`` with tensors is the biggest JSON answer, well under a megabyte.
MAX_BODY_BYTES = 32 * 2**20
#: A completion or chat answer longer than this is a runaway, not a suggestion.
MAX_TEXT_CHARS = 2**20


class HttpClient:
    """One server's connection pool; ``host`` as ``OLLAMA_HOST`` takes it (``HostError`` when
    it cannot be used). ``headers`` go on every request (a proxy's ``Authorization``),
    ``verify`` is the TLS trust for an ``https://`` host (``tls.client_context``)."""

    def __init__(
        self,
        host: str | Endpoint | None = None,
        *,
        connect_timeout: float = 1.5,
        request_timeout: float = 15.0,
        first_byte_timeout: float = 120.0,
        pool_timeout: float = POOL_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_text_chars: int = MAX_TEXT_CHARS,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self.max_text_chars = max_text_chars
        self._connections = Connections(
            _endpoint(host),
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            max_connections=max_connections,
            limits=Limits(max_line=max_line_bytes, max_body=max_body_bytes),
            transport=transport,
            headers=headers,
            verify=verify,
        )

    @property
    def host(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:11434``, as shown to users (no password)."""
        return self._connections.endpoint.display

    @host.setter
    def host(self, value: str | Endpoint) -> None:
        self._connections.retarget(_endpoint(value))

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go, with the credentials (compare endpoints, show ``host``)."""
        return self._connections.endpoint

    @property
    def pool_rebuilds(self) -> int:
        """How often a wedged connection pool was replaced (see ``connections``)."""
        return self._connections.rebuilds

    async def aclose(self) -> None:
        await self._connections.aclose()


class TextBudget:
    """Counts a stream's text so that a runaway answer fails instead of filling memory;
    ``too_large(detail)`` is the backend's error for it."""

    def __init__(self, limit: int, too_large: Callable[[str], Exception]) -> None:
        self.left = limit
        self.limit = limit
        self._too_large = too_large

    def spend(self, text: str) -> None:
        self.left -= len(text)
        if self.left < 0:
            raise self._too_large(f"an answer longer than {self.limit:,} characters")


def _endpoint(host: str | Endpoint | None) -> Endpoint:
    return host if isinstance(host, Endpoint) else parse_endpoint(host)
