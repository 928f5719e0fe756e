"""The JSON-RPC layer in-process: pygls's per-notification bookkeeping leak is closed, and
pending server-to-client requests are bounded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from lsprotocol import types

from ollama_lsp.protocol import OllamaProtocol
from ollama_lsp.server import create_server


class Collect:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass


def receive(protocol: OllamaProtocol, message: dict[str, Any]) -> None:
    protocol.handle_message(protocol.structure_message({"jsonrpc": "2.0", **message}))


async def settle() -> None:
    for _ in range(5):  # done-callbacks of asyncio futures run on the next loop turns
        await asyncio.sleep(0)


@pytest.fixture
async def server():
    ls = create_server("127.0.0.1:9")
    writer = Collect()
    ls.protocol.set_writer(writer)
    receive(ls.protocol, {"id": 1, "method": "initialize", "params": {"capabilities": {}}})
    await settle()
    yield ls, writer
    for task in list(ls.background):
        task.cancel()


async def test_notifications_leave_no_bookkeeping_behind(server) -> None:
    """pygls 2.1.1 kept one future (~1.9 KB) per didOpen/didChange/didClose, forever."""
    ls, _ = server
    protocol = ls.protocol
    for n in range(300):
        uri = f"file:///w/m{n % 7}.py"
        item = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}
        receive(protocol, {"method": "textDocument/didOpen", "params": {"textDocument": item}})
        change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "y"}  # fmt: skip
        ident = {"uri": uri, "version": 2}
        receive(protocol, {"method": "textDocument/didChange", "params": {"textDocument": ident, "contentChanges": [change]}})  # fmt: skip
        receive(protocol, {"method": "workspace/didChangeConfiguration", "params": {"settings": {}}})  # fmt: skip
        receive(protocol, {"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})  # fmt: skip
        receive(protocol, {"id": 10 + n, "method": "workspace/executeCommand", "params": {"command": "ollama.accepted", "arguments": [uri]}})  # fmt: skip
    await settle()
    assert len(protocol._request_futures) < 5


async def test_an_unanswered_request_to_the_client_is_bounded_and_forgotten(server) -> None:
    ls, writer = server
    with pytest.raises(TimeoutError):
        await ls.protocol.request(
            types.WINDOW_WORK_DONE_PROGRESS_CREATE,
            types.WorkDoneProgressCreateParams(token="t"),
            0.05,
        )
    assert writer.sent[-1]["method"] == "window/workDoneProgress/create"
    assert not ls.protocol._request_futures and not ls.protocol._result_types


async def test_a_malformed_response_fails_the_request_it_answers(server) -> None:
    ls, writer = server
    asked = asyncio.ensure_future(
        ls.protocol.request(
            types.WORKSPACE_CONFIGURATION,
            types.ConfigurationParams(items=[types.ConfigurationItem(section="ollama")]),
            5,
        )
    )
    await settle()
    msg_id = writer.sent[-1]["id"]
    receive(ls.protocol, {"id": msg_id, "error": {"code": "not a number", "message": 5}})
    with pytest.raises(Exception, match="Invalid params"):
        await asyncio.wait_for(asked, 1)


def position(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


INLINE_RESULTS = [
    types.InlineCompletionList(items=[]),
    types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text="x")]),
    types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text="return a + b\n",
                filter_text="return",
                range=types.Range(position(1, 4), position(1, 6)),
                command=types.Command(
                    title="Accept", command="ollama.accepted", arguments=["file:///a.py", 3]
                ),
            ),
            types.InlineCompletionItem(
                insert_text="😀", command=types.Command(title="t", command="c", tooltip="tip")
            ),
        ]
    ),
    types.InlineCompletionList(
        items=[types.InlineCompletionItem(insert_text=types.StringValue(value="${1:x}"))]
    ),
]


@pytest.mark.parametrize("result", INLINE_RESULTS)
async def test_fast_inline_answers_are_the_json_pygls_would_send(server, result) -> None:
    ls, writer = server
    protocol = ls.protocol
    protocol._send_response(7, result=result)
    ours = writer.sent[-1]
    super(OllamaProtocol, protocol)._send_response(7, result=result)
    assert ours == writer.sent[-1]


async def test_commands_get_their_arguments_as_sent_and_unknown_ones_are_invalid(server) -> None:
    ls, writer = server
    seen: list[tuple] = []

    @ls.command("test.echo")
    def echo(ls, *args) -> list:
        seen.append(args)
        return list(args)

    @ls.command("test.typed")
    def typed(ls, n: int) -> int:
        return n + 1

    for n, (command, arguments) in enumerate(
        [("test.echo", [5, "x", {"a": 1}]), ("test.echo", None), ("test.typed", [41]), ("nope", [])]
    ):
        receive(ls.protocol, {"id": 100 + n, "method": "workspace/executeCommand", "params": {"command": command, "arguments": arguments}})  # fmt: skip
    await settle()
    answers = {m["id"]: m for m in writer.sent if m.get("id", 0) >= 100}
    assert answers[100]["result"] == [5, "x", {"a": 1}] and answers[101]["result"] == []
    assert answers[102]["result"] == 42
    assert answers[103]["error"]["code"] == -32602
    assert seen == [(5, "x", {"a": 1}), ()]
