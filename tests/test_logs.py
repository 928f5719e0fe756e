"""Where log lines go: stderr until the client connects, then the client's log, each at its level."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Iterator

import pytest
from lsprotocol import types

from ollama_lsp import logs


class Sink:
    def __init__(self) -> None:
        self.sent: list[types.LogMessageParams] = []

    def window_log_message(self, params: types.LogMessageParams) -> None:
        self.sent.append(params)


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """``logs.configure`` writing to a buffer; the logging setup is restored afterwards."""
    buffer = io.StringIO()
    monkeypatch.setattr(logs.sys, "stderr", buffer)
    root = logging.getLogger()
    package = logging.getLogger(logs.PACKAGE)
    saved = (root.handlers[:], root.level, package.handlers[:], package.level)
    logs.configure("INFO")
    yield buffer
    logs.client_handler.disconnect()
    root.handlers[:], root.level = saved[0], saved[1]
    package.handlers[:], package.level = saved[2], saved[3]
    logging.getLogger("pygls").setLevel(logging.NOTSET)
    logging.getLogger("httpx").setLevel(logging.NOTSET)


async def test_before_connecting_lines_go_to_stderr(stderr: io.StringIO) -> None:
    logging.getLogger("ollama_lsp.server").info("starting")
    assert "INFO ollama_lsp.server: starting" in stderr.getvalue()


async def test_once_connected_our_lines_go_to_the_client_with_their_level(
    stderr: io.StringIO,
) -> None:
    sink = Sink()
    logs.client_handler.connect(sink)
    log = logging.getLogger("ollama_lsp.server")
    log.info("ready")
    log.warning("slow")
    log.error("broken")
    log.debug("hidden at INFO")
    assert [(m.type, m.message) for m in sink.sent] == [
        (types.MessageType.Info, "INFO ollama_lsp.server: ready"),
        (types.MessageType.Warning, "WARNING ollama_lsp.server: slow"),
        (types.MessageType.Error, "ERROR ollama_lsp.server: broken"),
    ]
    assert stderr.getvalue() == ""  # an editor shows stderr lines as errors


async def test_other_libraries_warnings_stay_on_stderr(stderr: io.StringIO) -> None:
    sink = Sink()
    logs.client_handler.connect(sink)
    logging.getLogger("pygls.protocol").warning("odd message")
    assert sink.sent == []
    assert "WARNING pygls.protocol: odd message" in stderr.getvalue()


async def test_a_line_from_another_thread_is_sent_from_the_event_loop(stderr: io.StringIO) -> None:
    sink = Sink()
    logs.client_handler.connect(sink)
    sent_on: list[int] = []
    arrived = asyncio.Event()
    original = sink.window_log_message

    def record(params: types.LogMessageParams) -> None:
        sent_on.append(threading.get_ident())
        original(params)
        arrived.set()

    sink.window_log_message = record  # type: ignore[method-assign]
    worker = threading.Thread(target=logging.getLogger("ollama_lsp.models").info, args=("x",))
    worker.start()
    worker.join()
    await asyncio.wait_for(arrived.wait(), 2)
    assert sent_on == [threading.get_ident()]


def test_levels_map_to_lsp_message_types() -> None:
    assert [logs.message_type(level) for level in (50, 40, 30, 20, 10)] == [1, 1, 2, 3, 4]
