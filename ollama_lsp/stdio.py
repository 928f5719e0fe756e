"""Serve LSP over stdin/stdout from the event loop itself, without reader threads.

pygls's stdio server reads stdin through a thread pool: each message costs three hand-offs
between a worker thread and the event loop (two header lines, then the body), each a thread
wake-up plus a self-pipe write. On a busy laptop that is a large part of what a cache hit
costs. Editors always connect through a pipe (or a socket pair), and asyncio reads those
natively, so we feed pygls's own message loop (``pygls.io_.run_async``) from an asyncio
stream instead. Anything else on stdin (a file, a terminal) gets pygls's reader unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

#: Longest header line we accept; bodies are read by length and have no limit.
_LINE_LIMIT = 64 * 1024


class _PipeReader:
    """pygls's ``AsyncReader`` over an asyncio stream: ``b""`` at end of input, never raises."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        try:
            return await self._stream.readline()
        except (ValueError, ConnectionError):  # an over-long line, or the pipe broke
            return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError):  # gone mid-message
            return b""


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
    server: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> None:
    """Run ``server`` on stdio until the client sends ``exit`` or closes the pipe."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    if not _separate_pipes(stdin, stdout):
        server.start_io(stdin, stdout)
        return
    server.protocol.set_writer(StdoutWriter(stdout))
    try:
        asyncio.run(_serve(server, stdin))
    except BrokenPipeError:
        log.error("the editor closed the connection; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass  # ``exit`` ends the process through SystemExit, as in pygls
    finally:
        server.shutdown()


async def _serve(server: LanguageServer, stdin: BinaryIO) -> None:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=_LINE_LIMIT, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream, loop=loop), stdin)
    await run_async(
        stop_event=threading.Event(),
        reader=_PipeReader(stream),
        protocol=server.protocol,
        logger=log,
        error_handler=server.report_server_error,
    )
