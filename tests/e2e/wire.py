"""The real server process driven with raw JSON-RPC, to send what a typed client refuses to.

pytest-lsp validates every message against the spec, so it cannot send ``line: -1``, a
Content-Length counted in characters or a request after ``shutdown``; hostile clients do.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

SERVER_COMMAND = [sys.executable, "-m", "ollama_lsp", "--log-level", "INFO"]
INLINE_CAPABILITIES: dict[str, Any] = {
    "textDocument": {"inlineCompletion": {}},
    "window": {"workDoneProgress": True},
}


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class Wire:
    """One server process; answers its requests unless told to ignore their method."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.ids = itertools.count(1)
        self.pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.ignore: set[str] = set()
        self.answers: dict[str, Any] = {}
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, ollama_host: str, env: dict[str, str] | None = None) -> Wire:
        proc = await asyncio.create_subprocess_exec(
            *SERVER_COMMAND,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None if os.environ.get("WIRE_STDERR") else asyncio.subprocess.DEVNULL,
            env={**os.environ, "OLLAMA_HOST": ollama_host, **(env or {})},
        )
        return cls(proc)

    async def initialize(self, capabilities: dict[str, Any] | None = None, **params: Any) -> dict:
        caps = INLINE_CAPABILITIES if capabilities is None else capabilities
        answer = await self.request("initialize", {"capabilities": caps, **params})
        self.notify("initialized", {})
        return answer

    def send(self, message: dict[str, Any] | bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(message if isinstance(message, bytes) else frame(message))

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def ask(self, method: str, params: Any = None) -> asyncio.Future[dict[str, Any]]:
        """Send a request; the future resolves to the whole response message."""
        msg_id = next(self.ids)
        future = self.pending[msg_id] = asyncio.get_running_loop().create_future()
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return future

    async def request(self, method: str, params: Any = None, wait_s: float = 10) -> dict:
        return await asyncio.wait_for(self.ask(method, params), wait_s)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        item = {"uri": uri, "languageId": "python", "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def inline(self, uri: str, line: int, character: int) -> asyncio.Future[dict[str, Any]]:
        return self.ask(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 1},
            },
        )

    def popups(self) -> list[str]:
        return [
            n["params"]["message"]
            for n in self.notifications
            if n["method"] == "window/showMessage"
        ]

    async def until(self, condition: Callable[[], bool], wait_s: float = 10) -> None:
        """Wait until ``condition()`` holds, re-checked as each notification arrives."""
        async with asyncio.timeout(wait_s):
            while not condition():
                self._arrived.clear()
                await self._arrived.wait()

    async def exit_code(self, wait_s: float = 10) -> int:
        return await asyncio.wait_for(self.proc.wait(), wait_s)

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            while True:
                head = await stdout.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                self._received(json.loads(await stdout.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    def _received(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            future = self.pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
            elif message.get("id") is None:
                self.notifications.append({"method": "<response without id>", **message})
            return
        if "id" not in message:
            self.notifications.append(message)
            self._arrived.set()
            return
        self.server_requests.append(message)
        if message["method"] not in self.ignore:
            result = self.answers.get(message["method"])
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
