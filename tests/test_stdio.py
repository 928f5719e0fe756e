"""The stdio transport: pipes and sockets read by the event loop, anything else by a thread."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

SERVER = [sys.executable, "-m", "ollama_lsp", "--ollama-host", "127.0.0.1:9"]


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


SESSION_MESSAGES = (
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
    {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
    {"jsonrpc": "2.0", "method": "exit"},
)
SESSION = b"".join(frame(m) for m in SESSION_MESSAGES)


def responses(stdout: bytes) -> list[dict]:
    found, rest = [], stdout
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        found.append(json.loads(rest[:length]))
        rest = rest[length:]
    return [m for m in found if "id" in m and "method" not in m]


def test_a_whole_session_from_a_file_is_read_by_a_worker_thread(tmp_path) -> None:
    path = tmp_path / "session.bin"
    path.write_bytes(SESSION)
    with path.open("rb") as stdin:
        done = subprocess.run(SERVER, stdin=stdin, capture_output=True, timeout=30)
    answered = responses(done.stdout)
    assert [m["id"] for m in answered] == [1, 2]
    assert "inlineCompletionProvider" in answered[0]["result"]["capabilities"]
    assert done.returncode == 0, done.stderr.decode()


async def test_a_whole_session_over_a_pipe() -> None:
    """As editors do: wait for each answer (``exit`` only after ``shutdown`` was answered)."""
    proc = await asyncio.create_subprocess_exec(
        *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin and proc.stdout

    async def answer(msg_id: int) -> dict:
        while True:
            head = await proc.stdout.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            message = json.loads(await proc.stdout.readexactly(length))
            if message.get("id") == msg_id and "method" not in message:
                return message

    initialize, initialized, shutdown, exit_ = SESSION_MESSAGES
    async with asyncio.timeout(30):
        proc.stdin.write(frame(initialize))
        assert "inlineCompletionProvider" in (await answer(1))["result"]["capabilities"]
        proc.stdin.write(frame(initialized) + frame(shutdown))
        assert (await answer(2))["result"] is None
        proc.stdin.write(frame(exit_))
        await proc.stdin.drain()
        assert await proc.wait() == 0


def test_a_client_that_vanishes_mid_message_ends_the_server_quietly() -> None:
    truncated = frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})[:-10]
    done = subprocess.run(SERVER, input=truncated, capture_output=True, timeout=30)
    assert done.stdout == b""
    assert b"Traceback" not in done.stderr
