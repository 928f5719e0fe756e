"""One request/response exchange: Ollama's framing, the request's fault, and its record.

Framing follows Gin: ``c.JSON`` bodies are compact Go JSON without a newline, typed
``application/json; charset=utf-8``; streams are ``application/x-ndjson``, one object and
``\\n`` per write, with headers going out only with the first line (so "time to first byte" is
"time to first token"); an error before the first line replaces the stream with an
``application/json`` error, an error after it is one more ``{"error":...}`` line.

Disconnects surface as ``ClientGone`` (a write to a closed transport) or as the handler's
cancellation (aiohttp's ``handler_cancellation``); the middleware records both.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .faults import Fault
from .gojson import EmptyBody, GoDecodeError, Struct, decode, marshal
from .gotime import rfc3339
from .records import RecordedRequest
from .state import DoubleState

JSON_UTF8 = "application/json; charset=utf-8"
JSON_PLAIN = "application/json"
NDJSON = "application/x-ndjson"

STATE = web.AppKey("state", DoubleState)


class Respond(Exception):
    """Finish the request with this response (raised from deep inside a handler)."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


class StreamEnded(Exception):
    """A fault ended the response early; whatever was sent stands."""


class ClientGone(Exception):
    """The client closed the connection; a write failed."""


def json_response(obj: Any, status: int = 200, content_type: str = JSON_UTF8) -> web.Response:
    body = marshal(obj).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": content_type})


def error_response(message: str, status: int, content_type: str = JSON_UTF8) -> web.Response:
    return json_response({"error": message}, status, content_type)


class Exchange:
    def __init__(self, request: web.Request, record: RecordedRequest, raw: bytes) -> None:
        self.request = request
        self.state = request.app[STATE]
        self.record = record
        self.raw = raw
        self.streaming = True
        self.fault: Fault | None = None
        self.fault_fired = False
        self.closed_by_us = False
        self.response: web.StreamResponse | None = None

    # --- request side -------------------------------------------------------------------------

    def decode(self, struct: Struct) -> dict[str, Any]:
        try:
            return decode(self.raw, struct)
        except EmptyBody:
            raise Respond(self.error(400, "missing request body")) from None
        except GoDecodeError as err:
            raise Respond(self.error(400, str(err))) from None

    def update(self, **changes: Any) -> None:
        self.state.book.update(self.record, **changes)

    def now(self) -> str:
        return rfc3339(self.state.wall_ns())

    def error(self, status: int, message: str, content_type: str = JSON_UTF8) -> web.Response:
        """A ``c.JSON`` error before any output."""
        self.update(error=message)
        return error_response(message, status, content_type)

    async def begin(self) -> None:
        """Take this path's fault, if any. ``http_error`` and an immediate ``hang`` act now."""
        self.fault = self.state.take_fault(self.request.path)
        if self.fault is None:
            return
        self.update(fault=self.fault.kind)
        if self.fault.kind == "http_error":
            self.fault_fired = True
            content_type = JSON_PLAIN if self.streaming else JSON_UTF8
            raise Respond(self.error(self.fault.status, self.fault.error_message, content_type))
        if self.fault.kind == "hang" and self.fault.after_chunks == 0:
            self.fault_fired = True
            await self._hang()

    # --- streams ------------------------------------------------------------------------------

    def _due(self, final: bool) -> bool:
        if self.fault is None or self.fault_fired:
            return False
        return final or self.record.chunks_sent >= self.fault.after_chunks

    async def send_line(self, obj: dict[str, Any], text: str = "", *, final: bool = False) -> None:
        """One NDJSON line (``final`` = the ``done`` line or the stream's last status)."""
        if self._due(final):
            await self._fire_stream_fault()
        await self._write((marshal(obj) + "\n").encode(), text)
        await asyncio.sleep(0)  # one line per turn: a client may close or cancel between them

    async def stream_error(self, message: str) -> web.StreamResponse:
        """An error from the stream's channel: a JSON error before output, else an error line."""
        if self.response is None:
            raise Respond(self.error(500, message, JSON_PLAIN if self.streaming else JSON_UTF8))
        self.update(error=message)
        await self._write((marshal({"error": message}) + "\n").encode(), "")
        return self.response

    async def _prepare(self) -> web.StreamResponse:
        if self.response is None:
            response = web.StreamResponse(status=200, headers={"Content-Type": NDJSON})
            response.enable_chunked_encoding()
            self._check_connected()
            try:
                await response.prepare(self.request)
            except ConnectionError:
                raise ClientGone from None
            self.response = response
            self.update(status=200)
        return self.response

    def _check_connected(self) -> None:
        transport = self.request.transport
        if transport is None or transport.is_closing():
            raise ClientGone

    async def _write(self, data: bytes, text: str) -> None:
        response = await self._prepare()
        self._check_connected()
        try:
            await response.write(data)
        except ConnectionError:
            raise ClientGone from None
        self.state.book.add_text(self.record, text)

    async def _fire_stream_fault(self) -> None:
        fault = self.fault
        assert fault is not None
        self.fault_fired = True
        if fault.kind == "error_line":
            await self.stream_error(fault.error_message)
        elif fault.kind == "malformed_line":
            await self._write(b'{"model":"broken", this is not JSON\n', "")
        elif fault.kind == "abort":
            await self._prepare()
            self._abort()
        elif fault.kind == "hang":
            await self._hang()
        raise StreamEnded

    def _abort(self) -> None:
        self.closed_by_us = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def _hang(self) -> None:
        """Send nothing more until the client hangs up or the double stops (both cancel us)."""
        self.update(phase="hanging")
        await asyncio.get_running_loop().create_future()

    # --- single objects -----------------------------------------------------------------------

    async def send_single(
        self, obj: dict[str, Any], status: int = 200, content_type: str = JSON_UTF8
    ) -> web.StreamResponse:
        """A single JSON object (``c.JSON``), with any pending fault applied to it."""
        body = marshal(obj).encode()
        fault = self.fault if self._due(final=True) else None
        if fault is None:
            return web.Response(body=body, status=status, headers={"Content-Type": content_type})
        self.fault_fired = True
        if fault.kind == "error_line":
            return self.error(500, fault.error_message)
        if fault.kind in ("malformed_line", "truncate"):
            broken = (
                b"not JSON: " + body if fault.kind == "malformed_line" else body[: len(body) // 2]
            )
            return web.Response(body=broken, headers={"Content-Type": content_type})
        response = web.StreamResponse(status=status, headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(self.request)
        self.response = response
        self.update(status=status)
        if fault.kind == "abort":
            await response.write(body[: len(body) // 2])
            self._abort()
        else:
            await self._hang()
        raise StreamEnded
