"""What every benchmark needs: the real server over stdio, a double in its own process, stats."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
from lsprotocol import types
from pygls.lsp.client import LanguageClient


async def start_server(host: str, options: dict[str, Any]) -> LanguageClient:
    """``ollama-lsp`` on stdio against ``host``, initialized as an inline-completion client."""
    client = LanguageClient("benchmark", "1")
    env = {**os.environ, "OLLAMA_HOST": host}
    await client.start_io(sys.executable, "-m", "ollama_lsp", env=env)
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()
        ),
        general=types.GeneralClientCapabilities(position_encodings=["utf-16"]),
    )
    await client.initialize_async(
        types.InitializeParams(capabilities=caps, initialization_options={"ollama": options})
    )
    client.initialized(types.InitializedParams())
    return client


async def stop_server(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def execute(client: LanguageClient, command: str, *args: object) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(args))
    )


@contextlib.contextmanager
def double_process(*options: str) -> Iterator[str]:
    """The Ollama double in its own process (as Ollama is): yields its host.

    Latency measurements need this: a double in the benchmark's own process competes for
    the GIL with the measuring client and inflates every number.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ollama_double", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://{host}/api/version", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Ollama double did not start") from None
                time.sleep(0.05)
        yield host
    finally:
        proc.terminate()
        proc.wait(10)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
