"""Where the server's log lines go: the editor's log (``window/logMessage``) once connected.

Editors show a server's stderr as errors: vscode-languageclient 10 writes every stderr line to
its output channel as ``[error]``, so an ``INFO`` line read like a failure. Once the client has
sent ``initialize``, the records of our own package logger go to the client as
``window/logMessage`` with their level mapped (ERROR → Error, WARNING → Warning, INFO → Info,
DEBUG → Log), and stderr carries only what cannot go there: lines from before the connection
(startup failures) and after it, and other libraries' warnings (pygls's, httpx's), which are
protocol or transport trouble. ``--log-file`` still receives everything.

The client handler sits on the ``ollama_lsp`` logger only: sending a logMessage makes pygls log
("Sending data"), and a handler on the root logger would feed on its own output (pygls.md
§1.10). A re-entry guard covers the rest.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import TYPE_CHECKING, Protocol

from .redact import secret_filter

if TYPE_CHECKING:  # lsprotocol takes 0.5 s to import: `--version` and `check` do without it
    from lsprotocol import types

PACKAGE = "ollama_lsp"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CLIENT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _LogSink(Protocol):
    def window_log_message(self, params: types.LogMessageParams) -> None: ...


def message_type(levelno: int) -> int:
    """The ``window/logMessage`` type (LSP ``MessageType``: 1 Error … 4 Log) for a level.

    DEBUG maps to Log, not to 3.18's Debug (5), which older clients do not know.
    """
    if levelno >= logging.ERROR:
        return 1
    if levelno >= logging.WARNING:
        return 2
    if levelno >= logging.INFO:
        return 3
    return 4


class ClientLogHandler(logging.Handler):
    """Sends package log records to the connected client as ``window/logMessage``."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(CLIENT_FORMAT))
        self._sink: _LogSink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._sending = threading.local()

    @property
    def connected(self) -> bool:
        return self._sink is not None

    def connect(self, sink: _LogSink) -> None:
        """Start sending to ``sink``; call from the event loop (the ``initialize`` handler)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._sink = sink

    def disconnect(self) -> None:
        self._sink = None

    def filter(self, record: logging.LogRecord) -> bool:
        return self._sink is not None and super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        sink, loop = self._sink, self._loop
        if sink is None or loop is None or getattr(self._sending, "active", False):
            return
        from lsprotocol import types  # loaded long before: the server imported it

        kind = types.MessageType(message_type(record.levelno))
        params = types.LogMessageParams(type=kind, message=self.format(record))
        if threading.get_ident() == self._loop_thread:
            self._send(sink, params)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._send, sink, params)

    def _send(self, sink: _LogSink, params: types.LogMessageParams) -> None:
        self._sending.active = True
        try:
            sink.window_log_message(params)
        except Exception:  # a closed transport: the line is lost, the server goes on
            self.disconnect()
        finally:
            self._sending.active = False


class _UnlessSentToClient(logging.Filter):
    """Lets a record through to stderr unless the client handler takes it."""

    def __init__(self, client: ClientLogHandler) -> None:
        super().__init__()
        self._client = client

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == PACKAGE or record.name.startswith(PACKAGE + ".")
        return not (ours and self._client.connected)


#: The process's one client handler; ``configure`` installs it, the server connects it.
client_handler = ClientLogHandler()


def configure(level: str, log_file: str | None = None) -> None:
    """Set up logging for the server process: stderr (or ``log_file``) and the client."""
    if log_file:
        main: logging.Handler = logging.FileHandler(log_file)
    else:
        main = logging.StreamHandler(sys.stderr)
        main.addFilter(_UnlessSentToClient(client_handler))
    main.setFormatter(logging.Formatter(FORMAT))
    main.addFilter(secret_filter)  # pygls logs what the client sent, settings and all
    root = logging.getLogger()
    root.handlers[:] = [main]
    root.setLevel(level)
    package = logging.getLogger(PACKAGE)
    if client_handler not in package.handlers:
        package.addHandler(client_handler)
    if level != "DEBUG":
        logging.getLogger("pygls").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
