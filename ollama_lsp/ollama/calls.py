"""Ollama's two kinds of call — a JSON answer, or an NDJSON stream that ends with ``done`` —
on the shared plumbing (``http``), with Ollama's error rules (``wire``) and every read bounded.

Timeouts: the caller's bound on small JSON calls, a generous first-byte timeout on streams
(headers only arrive once the model is loaded), and none once a stream flows — a long
generation or a 7 GB pull must not be cut in the middle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..http.connections import Connections
from ..http.exchange import Exchange, TooLarge
from ..http.opening import describe, open_exchange
from ..provider.errors import ProviderError
from .errors import (
    MalformedResponse,
    OllamaTimeout,
    OllamaUnreachable,
    PoolExhausted,
    ResponseTooLarge,
    StreamBroken,
)
from .wire import check_status, error_text
from .wire import parse as parse_json

log = logging.getLogger(__name__)

#: How long to wait for the end of a response body after its last NDJSON line.
DRAIN_TIMEOUT_S = 0.5


class _Failures:
    """Ollama's errors for what fails before a response starts (``http.opening``)."""

    def pool_exhausted(self, host: str, connections: int, what: str) -> ProviderError:
        return PoolExhausted(host, connections, f"the {what} request")

    def unreachable(self, host: str) -> ProviderError:
        return OllamaUnreachable(host)

    def no_response(self, detail: str, what: str) -> ProviderError:
        return MalformedResponse(detail, what=f"the {what} request")


_FAILURES = _Failures()


class Calls:
    """JSON calls and NDJSON streams to one Ollama on ``connections``."""

    def __init__(
        self, connections: Connections, *, request_timeout: float, first_byte_timeout: float
    ) -> None:
        self._connections = connections
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout

    @property
    def host(self) -> str:
        return self._connections.endpoint.display

    async def json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        what: str,
        model: str | None = None,
        limit: float | None = None,
    ) -> dict[str, Any]:
        timeout = self.request_timeout if limit is None else limit
        exchange: Exchange | None = None
        try:
            async with asyncio.timeout(timeout):
                exchange, response = await self._open(method, path, body, what, lines=False)
                content = await exchange.body()
            await exchange.settle(DRAIN_TIMEOUT_S)
        except TimeoutError:
            raise OllamaTimeout(self.host, timeout, f"the {what} request") from None
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=f"the {what} request") from None
        except httpx.TransportError as exc:
            raise MalformedResponse(describe(exc), what=f"the {what} request") from exc
        finally:
            if exchange is not None:
                exchange.abort()
        check_status(self.host, response, content, what, model)
        if not content.strip():
            return {}  # delete answers 200 with an empty body
        data = parse_json(content, f"the {what} request")
        if "error" in data:
            raise error_text(str(data["error"]), None, what, model)
        return data

    async def stream(
        self, path: str, body: dict[str, Any], *, what: str, model: str
    ) -> AsyncIterator[dict[str, Any]]:
        exchange: Exchange | None = None
        try:
            try:
                async with asyncio.timeout(self.first_byte_timeout):
                    exchange, response = await self._open("POST", path, body, what, lines=True)
                    if not response.is_success:
                        check_status(self.host, response, await exchange.body(), what, model)
            except TimeoutError:
                raise OllamaTimeout(
                    self.host, self.first_byte_timeout, f"the {what} request"
                ) from None
            finished = False
            async for line in exchange.iter_lines():
                data = parse_json(line, f"the {what} request")
                if "error" in data:
                    raise error_text(str(data["error"]), None, what, model)
                if data.get("done") is True or data.get("status") == "success":
                    finished = True
                    await exchange.settle(DRAIN_TIMEOUT_S)
                    yield data
                    break
                yield data
            if not finished:
                raise MalformedResponse(
                    "the stream ended before Ollama said it was done", what=f"the {what} request"
                )
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=f"the {what} request") from None
        except httpx.TransportError as exc:
            raise StreamBroken(self.host, describe(exc), what=f"the {what} request") from exc
        finally:
            if exchange is not None:
                exchange.abort()  # a no-op once the stream was read to its end

    async def _open(
        self, method: str, path: str, body: dict[str, Any] | None, what: str, *, lines: bool
    ) -> tuple[Exchange, httpx.Response]:
        log.debug("ollama %s %s", method, path)
        return await open_exchange(
            self._connections, method, path, body, what, lines=lines, failures=_FAILURES
        )
