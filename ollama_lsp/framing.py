"""LSP's base protocol on a byte stream: header lines, a body of ``Content-Length`` bytes, JSON.

Lenient where clients are known to go wrong, loud where a message cannot be understood, and
never stuck. pygls's loop (``pygls.io_.run_async``) stops reading for good, or exits without
a word, when a client counts ``Content-Length`` in characters instead of bytes (a common bug
in hand-written clients: it only shows with non-ASCII text). Here:

* a body that is not JSON but only because it is cut short (the count was in code points or
  UTF-16 units, which are fewer than bytes) is completed from what follows, counted the way
  the client must have counted it; the rest of the body is normally already in the pipe, so
  this waits at most ``grace_s`` for it;
* anything else that is not JSON is reported (``BadFrame``: the caller answers Parse error)
  and reading goes on: a header is found wherever the next ``Content-Length`` starts, so junk
  left by a broken message costs that message only;
* a lone UTF-16 surrogate (``"\\ud800"``: legal in JSON, impossible to encode as UTF-8) is
  replaced by U+FFFD at intake, so no text the server holds can fail to reach Ollama. It is
  one UTF-16 unit and one code point, as the replacement is: positions stay right.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Protocol

#: Longest header line; longer lines are skipped as junk.
LINE_LIMIT = 64 * 1024
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ByteSource(Protocol):
    """What the frames are read from: ``b""`` at the end of input, never an exception."""

    async def readline(self) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...

    async def read_within(self, n: int, wait_s: float) -> bytes | None:
        """``n`` more bytes, or ``None`` if they did not come within ``wait_s`` seconds."""
        ...


class BadFrame(Exception):
    """A message that is not JSON (the client should hear: Parse error)."""


class Frames:
    """Reads one JSON message after another from a ``ByteSource``."""

    def __init__(self, source: ByteSource, *, grace_s: float = 1.0) -> None:
        self._source = source
        self._grace_s = grace_s

    async def next(self) -> Any | None:
        """The next message, decoded; ``None`` at the end of input; ``BadFrame`` if unreadable."""
        length = await self._headers()
        if length is None:
            return None
        body = await self._source.readexactly(length)
        if len(body) < length:
            return None  # the client went away mid-message
        try:
            return _decode(body)
        except ValueError:
            pass
        recounted = await self._recount(body, length)
        if recounted is None:
            raise BadFrame(f"a message of {length} bytes is not JSON: {body[:80]!r}…")
        return recounted

    async def _headers(self) -> int | None:
        length: int | None = None
        while True:
            line = await self._source.readline()
            if not line:
                return None
            if not line.strip():
                if length is not None:
                    return length
                continue  # a blank line with no header before it: junk
            found = _CONTENT_LENGTH.search(line)  # junk before it is left by a broken message
            if found:
                length = int(found.group(1))

    async def _recount(self, body: bytes, length: int) -> Any | None:
        """The body, if ``length`` counted code points or UTF-16 units and more bytes follow."""
        # UTF-16 first: for the same bytes it counts at least as many units as code points,
        # so it reaches ``length`` with fewer bytes and never reads into the next message.
        for count in (_utf16_units, _code_points):
            while (have := count(body)) < length:
                more = await self._source.read_within(length - have, self._grace_s)
                if not more:
                    return None
                body += more
            if have == length:
                try:
                    return _decode(body)
                except ValueError:
                    continue
        return None


def _decode(body: bytes) -> Any:
    message = json.loads(body)
    if _SURROGATE_ESCAPE.search(body):
        message = _scrub(message)
    return message


def _scrub(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD (pairs were joined by json)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _code_points(body: bytes) -> int:
    return len(body.decode("utf-8", errors="ignore"))


def _utf16_units(body: bytes) -> int:
    text = body.decode("utf-8", errors="ignore")
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class StreamSource:
    """A ``ByteSource`` over an asyncio stream (pipes and sockets, read by the event loop)."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        while True:
            try:
                return await self._stream.readline()
            except ValueError:  # longer than the limit: asyncio dropped it; read on
                continue
            except ConnectionError:
                return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except ConnectionError:
            return b""

    async def read_within(self, n: int, wait_s: float) -> bytes | None:
        try:  # a timed-out readexactly leaves what it saw in the buffer: nothing is lost
            return await asyncio.wait_for(self._stream.readexactly(n), wait_s)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            return None
