"""The shared ``httpx.AsyncClient`` and its connection pool, rebuilt if the pool ever wedges.

``exchange.Exchange`` keeps cancellation from losing pool connections, but the pool is httpcore's
and a loss we did not foresee must not make the server stop reaching Ollama for the rest of the
session. So the pool has a timeout (a dry pool fails in ``pool_timeout`` seconds with a typed
error instead of hanging), and when a request times out waiting for a connection while fewer
than ``max_connections`` exchanges are actually running, the missing connections were lost
inside httpcore: the client is replaced by a fresh one, and the old one is closed as soon as
its last running exchange ends.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping

import httpx

from .. import __version__
from .endpoint import Endpoint
from .exchange import Exchange, Limits

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 100
#: Idle connections kept open for reuse (httpx's default).
KEEPALIVE = 20


class Connections:
    """Hands out exchanges on the current client and knows how many are running on each."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        connect_timeout: float,
        pool_timeout: float,
        max_connections: int = MAX_CONNECTIONS,
        limits: Limits,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """``headers`` go on every request (a proxy's ``Authorization``; never logged);
        ``verify`` is the TLS trust for ``https://`` endpoints (``tls.client_context``)."""
        self.endpoint = endpoint
        self._headers = dict(headers or {})
        self._verify = verify
        self.max_connections = max_connections
        self.limits = limits
        self.rebuilds = 0
        self._timeout = httpx.Timeout(None, connect=connect_timeout, pool=pool_timeout)
        #: A transport the caller supplies is reused by a rebuilt client: then only the
        #: client is new, and a pool inside that transport is the caller's to manage.
        self._transport = transport
        self._running: dict[httpx.AsyncClient, set[Exchange]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.http = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        credentials = self.endpoint.credentials
        http = httpx.AsyncClient(
            base_url=self.endpoint.url,
            auth=httpx.BasicAuth(*credentials) if credentials else None,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=min(KEEPALIVE, self.max_connections),
            ),
            headers={
                "User-Agent": f"ollama-lsp/{__version__}",
                "Accept": "application/json",
                # A compressed body could expand past the size limits inside one chunk.
                "Accept-Encoding": "identity",
                **self._headers,
            },
            follow_redirects=False,
            # No proxy variables, no .netrc: a completion must not go through a proxy the
            # user set for the browser. TLS trust is ours too (``verify``), for the same reason.
            trust_env=False,
            verify=self._verify,
            transport=self._transport,
        )
        self._running[http] = set()
        return http

    def retarget(self, endpoint: Endpoint) -> None:
        """Talk to ``endpoint`` from now on (running exchanges finish where they started)."""
        self.endpoint = endpoint
        credentials = endpoint.credentials
        self.http.base_url = httpx.URL(endpoint.url)
        self.http.auth = httpx.BasicAuth(*credentials) if credentials else None

    @property
    def running(self) -> int:
        """Exchanges running on the current client."""
        return len(self._running.get(self.http, ()))

    def start(self, method: str, path: str, body: object, *, lines: bool) -> Exchange:
        http = self.http
        request = http.build_request(method, path, json=body)
        exchange = Exchange(
            http, request, lines=lines, limits=self.limits,
            on_done=lambda done: self._finished(http, done),
        )  # fmt: skip
        self._running.setdefault(http, set()).add(exchange)
        return exchange

    def wedged(self, timed_out: Exchange) -> bool:
        """After ``timed_out`` waited in vain for a connection: were connections lost?

        Every exchange that holds a connection is on the wire; fewer of those than the pool's
        size means the pool counts connections nobody uses. A wrong guess costs one new pool.
        """
        running = self._running.get(self.http, ())
        holding = sum(e.on_wire for e in running if e is not timed_out)
        return holding < self.max_connections

    def rebuild(self) -> None:
        """Replace the client; the old one closes when its last exchange is done."""
        old = self.http
        self.rebuilds += 1
        log.warning(
            "the HTTP connection pool to %s ran dry with %d of %d requests running; "
            "starting a new one",
            self.endpoint.display,
            len(self._running.get(old, ())),
            self.max_connections,
        )
        self.http = self._new_client()
        if not self._running.get(old, True):
            self._close(old)

    def _finished(self, http: httpx.AsyncClient, exchange: Exchange) -> None:
        running = self._running.get(http)
        if running is None:
            return
        running.discard(exchange)
        if http is not self.http and not running:
            self._close(http)

    def _close(self, http: httpx.AsyncClient) -> None:
        self._running.pop(http, None)
        task = asyncio.get_running_loop().create_task(http.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Abort what is running, let it close its responses, and close every client."""
        exchanges = [e for running in self._running.values() for e in running]
        for exchange in exchanges:
            exchange.abort()
        if exchanges:
            waits = [asyncio.ensure_future(e.wait_closed()) for e in exchanges]
            await asyncio.wait(waits, timeout=2.0)
        for http in list(self._running):
            del self._running[http]
            await http.aclose()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=2.0)
