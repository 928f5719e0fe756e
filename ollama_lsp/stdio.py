"""Serve LSP over stdin/stdout with our own message loop, and end the process promptly.

pygls's stdio server reads stdin through a thread pool: each message costs three hand-offs
between a worker thread and the event loop (two header lines, then the body), each a thread
wake-up plus a self-pipe write. On a busy laptop that is a large part of what a cache hit
costs. Editors always connect through a pipe (or a socket pair), and asyncio reads those
natively; anything else on stdin (a file, a terminal) is read by a worker thread.

The loop is ours rather than pygls's (``pygls.io_.run_async``) because that one stops for
good on a miscounted ``Content-Length``, and shows every unreadable message to the user as
"Error in server"; ``framing`` reads frames robustly, and here an unreadable message is
answered with Parse error and logged, nothing more.

``exit`` (or the end of input) ends the process within ``EXIT_GRACE_S``: tasks still running
(HTTP streams to Ollama, a model pull) are cancelled and given that long to finish, then the
process exits without waiting for worker threads (a DNS lookup, a blocked stdin read) that
would otherwise hold it for seconds. The exit code follows the spec: ``exit`` after
``shutdown`` is 0, ``exit`` without it is 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
from typing import BinaryIO, NoReturn

from lsprotocol import types
from pygls.protocol import JsonRPCProtocol

from .framing import LINE_LIMIT, BadFrame, Frames, StreamSource
from .protocol import OllamaProtocol

log = logging.getLogger(__name__)

EXIT_GRACE_S = 0.5
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


class _Writer:
    """pygls's writer over stdout that goes quiet once closed (``exit``) or broken.

    pygls's ``StdoutWriter`` raises on every write after ``exit`` closed stdout, and pygls
    reports each failure to the user — by writing a showMessage, which fails again: after
    ``exit`` with requests in flight, that storm of tracebacks held the process for seconds.
    A message nobody can receive is dropped instead.
    """

    def __init__(self, stdout: BinaryIO) -> None:
        self._stdout = stdout
        self._open = True

    def close(self) -> None:
        self._open = False
        with contextlib.suppress(OSError, ValueError):
            self._stdout.close()

    def write(self, data: bytes) -> None:
        if not self._open:
            return
        try:
            self._stdout.write(data)
            self._stdout.flush()
        except (OSError, ValueError):  # the editor went away: nobody is listening any more
            self._open = False
            log.info("the editor closed the connection; dropping what it would be sent")


class _ThreadSource:
    """A ``ByteSource`` over a blocking stream (a file, a terminal), read in worker threads."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await asyncio.to_thread(self._stream.readline, LINE_LIMIT)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.to_thread(self._stream.read, n)

    async def read_within(self, n: int, wait_s: float) -> bytes | None:
        return await self.readexactly(n)  # a file has its bytes at once, or never


def _separate_pipes(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """stdin is a pipe or socket (libuv editors spawn with socket pairs) of its own.

    Reading it non-blocking must not touch stdout, which pygls writes with blocking calls:
    so not when both are the same socket.
    """
    try:
        st_in, st_out = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (OSError, ValueError):
        return False
    piped = stat.S_ISFIFO(st_in.st_mode) or stat.S_ISSOCK(st_in.st_mode)
    return piped and not os.path.samestat(st_in, st_out)


def serve(
    server: object, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> NoReturn:
    """Run ``server`` (a pygls server) on stdio until ``exit`` or the end of input, then end
    the process with the spec's exit code.

    The event loop is not closed the ``asyncio.run`` way: that waits, without a bound, for
    every cancelled task to finish (an HTTP stream being torn down takes seconds) and then
    for the worker threads.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    protocol: JsonRPCProtocol = server.protocol  # type: ignore[attr-defined]
    protocol.set_writer(_Writer(stdout))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        code = loop.run_until_complete(
            _serve(protocol, stdin, piped=_separate_pipes(stdin, stdout))
        )
    except KeyboardInterrupt:
        code = 1
    end_process(code)


def end_process(code: int) -> NoReturn:
    """Flush what is buffered and exit now, without joining worker threads."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # stdout is closed after ``exit``
            stream.flush()
    os._exit(code)


async def _serve(protocol: JsonRPCProtocol, stdin: BinaryIO, *, piped: bool) -> int:
    if piped:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=LINE_LIMIT, loop=loop)
        protocol_factory = lambda: asyncio.StreamReaderProtocol(stream, loop=loop)  # noqa: E731
        await loop.connect_read_pipe(protocol_factory, stdin)
        frames = Frames(StreamSource(stream))
    else:
        frames = Frames(_ThreadSource(stdin))
    code = await pump(frames, protocol)
    await _wind_down()
    return code


async def pump(frames: Frames, protocol: JsonRPCProtocol) -> int:
    """Hand each message to ``protocol`` until ``exit`` (its code) or the end of input (0)."""
    while True:
        try:
            data = await frames.next()
        except BadFrame as exc:
            log.error("unreadable message: %s", exc)
            _answer_error(protocol, PARSE_ERROR, f"Parse error: {exc}")
            continue
        if data is None:
            return 0
        if not isinstance(data, dict) or "jsonrpc" not in data:
            log.error("not a JSON-RPC message: %.200r", data)
            _answer_error(protocol, INVALID_REQUEST, "Invalid Request: not a JSON-RPC message")
            continue
        if data.get("method") == types.EXIT and isinstance(protocol, OllamaProtocol):
            await protocol.settle_shutdown(EXIT_GRACE_S)
        try:
            protocol.handle_message(protocol.structure_message(data))
        except SystemExit as exc:  # pygls's ``exit`` handler
            return exc.code if isinstance(exc.code, int) else 1
        except Exception:
            log.exception("could not handle %s", data.get("method") or "a response")


def _answer_error(protocol: JsonRPCProtocol, code: int, message: str) -> None:
    """An error response with id ``null``: the message's id could not be read."""
    protocol._send_response(None, error=types.ResponseError(code=code, message=message))  # type: ignore[arg-type]


async def _wind_down() -> None:
    """Cancel what is still running and give it ``EXIT_GRACE_S`` to finish."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=EXIT_GRACE_S)
