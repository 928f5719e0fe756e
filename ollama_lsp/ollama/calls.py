"""Ollama's two kinds of call — a JSON answer, or an NDJSON stream that ends with ``done`` —
on the shared plumbing (``http``), with Ollama's error rules (``wire``) and every read bounded.

Timeouts: the caller's bound on small JSON calls, a generous first-byte timeout on streams
(headers only arrive once the model is loaded), and none once a stream flows — a long
generation or a 7 GB pull must not be cut in the middle.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..http.connections import Connections
from ..http.opening import LineStream, read_whole
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


class _Failures:
    """Ollama's errors for the plumbing's failures (``http.opening``)."""

    def pool_exhausted(self, host: str, connections: int, what: str) -> ProviderError:
        return PoolExhausted(host, connections, f"the {what} request")

    def unreachable(self, host: str) -> ProviderError:
        return OllamaUnreachable(host)

    def no_response(self, detail: str, what: str) -> ProviderError:
        return MalformedResponse(detail, what=f"the {what} request")

    def timeout(self, host: str, seconds: float, what: str) -> ProviderError:
        return OllamaTimeout(host, seconds, f"the {what} request")

    def too_large(self, detail: str, what: str) -> ProviderError:
        return ResponseTooLarge(detail, what=f"the {what} request")

    def broken(self, host: str, detail: str, what: str) -> ProviderError:
        return StreamBroken(host, detail, what=f"the {what} request")


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
        log.debug("ollama %s %s", method, path)
        timeout = self.request_timeout if limit is None else limit
        response, content = await read_whole(
            self._connections, method, path, body, what, within=timeout, failures=_FAILURES
        )
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
        """The NDJSON objects up to the one that says ``done`` (or a pull's ``success``)."""
        log.debug("ollama POST %s", path)

        async def check(response: httpx.Response, content: bytes) -> None:
            check_status(self.host, response, content, what, model)

        opened = LineStream(
            self._connections, path, body, what,
            first_byte_timeout=self.first_byte_timeout, failures=_FAILURES, check=check,
        )  # fmt: skip
        async with opened as stream:
            async for line in stream.lines():
                data = parse_json(line, f"the {what} request")
                if "error" in data:
                    raise error_text(str(data["error"]), None, what, model)
                if data.get("done") is True or data.get("status") == "success":
                    await stream.finish()
                    yield data
                    return
                yield data
        raise MalformedResponse(
            "the stream ended before Ollama said it was done", what=f"the {what} request"
        )
