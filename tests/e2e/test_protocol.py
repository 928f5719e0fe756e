"""The JSON-RPC contract under hostile clients: every request answered within its bound, no
popup for a client's mistake, lifecycle errors and exit codes as the spec says, and the
process always ends. Driven with raw JSON (``wire``): a typed client cannot send these."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .conftest import generate_calls
from .wire import Wire, frame

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
INVALID_PARAMS, INVALID_REQUEST, NOT_INITIALIZED, PARSE_ERROR = -32602, -32600, -32002, -32700


@pytest_asyncio.fixture(loop_scope="module")  # the loop every e2e test runs in (conftest)
async def wire(ollama_double) -> AsyncIterator[Wire]:
    started: list[Wire] = []
    yield lambda **kw: _start(ollama_double.host, started, **kw)  # type: ignore[misc]
    for w in started:
        await w.close()


async def _start(host: str, started: list[Wire], **kw) -> Wire:
    w = await Wire.start(host, **kw)
    started.append(w)
    return w


def inline_params(line: object = 1, character: object = 4, **extra) -> dict:
    return {
        "textDocument": {"uri": URI},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 1},
        **extra,
    }


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("textDocument/inlineCompletion", inline_params(line=-1), "$.params.position"),
        ("textDocument/inlineCompletion", inline_params(character=2**31), "$.params.position"),
        (
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 4}},
            "$.params.context",
        ),
        ("workspace/executeCommand", {"command": "ollama.status", "arguments": 5}, "arguments"),
        ("textDocument/completion", {"textDocument": {}, "position": {}}, "$.params"),
    ],
    ids=["line -1", "character 2**31", "no context", "arguments 5", "empty objects"],
)
async def test_malformed_requests_get_invalid_params_and_no_popup(
    wire, method: str, params: dict, field: str
) -> None:
    w = await wire()
    await w.initialize()
    w.open(URI, DOC)
    answer = await w.request(method, params, wait_s=5)
    assert answer["error"]["code"] == INVALID_PARAMS
    assert field in answer["error"]["message"]
    ok = await w.request("workspace/executeCommand", {"command": "ollama.accepted"})
    assert "error" not in ok  # still serving
    assert not [p for p in w.popups() if "Error in server" in p]


async def test_requests_before_initialize_and_after_shutdown(wire) -> None:
    w = await wire()
    early = await w.request("textDocument/inlineCompletion", inline_params(), wait_s=5)
    assert early["error"]["code"] == NOT_INITIALIZED
    await w.initialize()
    assert (await w.request("shutdown"))["result"] is None
    late = await w.request("textDocument/inlineCompletion", inline_params(), wait_s=5)
    assert late["error"]["code"] == INVALID_REQUEST
    again = await w.request("shutdown", wait_s=5)
    assert again["error"]["code"] == INVALID_REQUEST
    w.notify("exit")
    assert await w.exit_code() == 0


async def test_exit_without_shutdown_exits_1(wire) -> None:
    w = await wire()
    await w.initialize()
    w.notify("exit")
    assert await w.exit_code() == 1


async def test_end_of_input_and_sigterm_end_the_process(wire) -> None:
    w = await wire()
    await w.initialize()
    assert w.proc.stdin is not None
    w.proc.stdin.close()
    await w.exit_code(wait_s=5)
    w = await wire()
    await w.initialize()
    w.proc.send_signal(signal.SIGTERM)
    assert await w.exit_code(wait_s=5) == -signal.SIGTERM


async def test_exit_is_prompt_with_generations_in_flight(wire, ollama_double) -> None:
    ollama_double.latency.first_token_s = 30  # the generations never finish by themselves
    w = await wire()
    await w.initialize()
    w.open(URI, DOC + "\n" * 10)
    pending = [w.inline(URI, line, 0) for line in range(1, 9)]
    await ollama_double.wait_for_async(lambda r: r.path == "/api/generate" and r.body.get("prompt"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    w.notify("exit")  # without shutdown: nothing was cancelled before
    assert await w.exit_code(wait_s=30) == 1
    assert loop.time() - started < 2.0  # was ~3 s per request in flight
    assert len(pending) == 8


async def test_change_and_close_of_an_unopened_document_are_ignored(wire) -> None:
    w = await wire()
    await w.initialize()
    ident = {"uri": "file:///never/opened.py", "version": 2}
    change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}  # fmt: skip
    w.notify("textDocument/didChange", {"textDocument": ident, "contentChanges": [change]})
    w.notify("textDocument/didClose", {"textDocument": {"uri": ident["uri"]}})
    answer = await w.request("workspace/executeCommand", {"command": "ollama.accepted"})
    assert "error" not in answer
    assert not [p for p in w.popups() if "Error in server" in p]


@pytest.mark.parametrize("count", ["code points", "utf-16 units"])
async def test_content_length_counted_in_characters_is_understood(
    wire, ollama_double, count: str
) -> None:
    ollama_double.script("return a + b")
    w = await wire()
    await w.initialize()
    text = "def add(a, b):  # somme des éléments 😀\n    \n"
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": text}
            },
        },
        ensure_ascii=False,
    )
    n = len(body) if count == "code points" else len(body.encode("utf-16-le")) // 2
    w.send(b"Content-Length: %d\r\n\r\n%s" % (n, body.encode()))
    answer = await w.request("textDocument/inlineCompletion", inline_params(), wait_s=5)
    assert answer["result"]["items"][0]["insertText"] == "return a + b"
    assert "éléments 😀" in generate_calls(ollama_double)[0].body["prompt"]


async def test_unreadable_message_is_answered_parse_error_and_reading_goes_on(wire) -> None:
    w = await wire()
    await w.initialize()
    w.send(frame(b'{"jsonrpc": "2.0", "id": 99, "method": '))
    w.send(b"garbage that is no header\r\n")
    answer = await w.request("workspace/executeCommand", {"command": "ollama.accepted"})
    assert "error" not in answer
    errors = [n for n in w.notifications if n["method"] == "<response without id>"]
    assert errors and errors[0]["error"]["code"] == PARSE_ERROR
    assert not [p for p in w.popups() if "Error in server" in p]


async def test_lone_surrogates_in_a_document_and_a_model_name(wire, ollama_double) -> None:
    ollama_double.script("return a + b")
    w = await wire()
    await w.initialize()
    raw = b'"def add(a, b):  # \\ud800 and \\udfff\\n    \\n"'  # JSON escapes: lone halves
    item = b'{"uri": "%s", "languageId": "python", "version": 1, "text": %s}' % (URI.encode(), raw)
    w.send(frame(b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": %s}}' % item))  # fmt: skip
    answer = await w.request("textDocument/inlineCompletion", inline_params(), wait_s=5)
    assert answer["result"]["items"][0]["insertText"] == "return a + b"
    assert "# \ufffd and \ufffd\n" in generate_calls(ollama_double)[0].body["prompt"]
    w.send(frame(b'{"jsonrpc": "2.0", "id": 500, "method": "workspace/executeCommand", "params": {"command": "ollama.showModel", "arguments": ["x\\ud800"]}}'))  # fmt: skip
    shown = await asyncio.wait_for(w.pending.setdefault(500, asyncio.get_running_loop().create_future()), 5)  # fmt: skip
    assert shown["error"]["code"] != -32603  # an answer about the model, not an internal error


async def test_a_client_that_never_answers_progress_create_does_not_hang_a_pull(
    wire, ollama_double
) -> None:
    ollama_double.latency.pull_tick_s = 0.001
    w = await wire()
    w.ignore.add("window/workDoneProgress/create")
    await w.initialize()
    answer = await w.request(
        "workspace/executeCommand",
        {"command": "ollama.pullModel", "arguments": ["starcoder2:3b"]},
        wait_s=10,
    )
    assert answer.get("result", {}).get("status") == "success", answer
    assert any(r["method"] == "window/workDoneProgress/create" for r in w.server_requests)


@pytest.mark.parametrize(
    ("encodings", "end"),
    [(None, 6), (["utf-16"], 6), (["utf-8"], 8), (["utf-32"], 5)],
    ids=["none sent", "utf-16", "utf-8", "utf-32"],
)
async def test_range_at_a_line_end_after_an_emoji(
    wire, ollama_double, encodings: list[str] | None, end: int
) -> None:
    """``s = 😀`` is 6 UTF-16 units, 8 bytes, 5 code points; past the end means the end."""
    ollama_double.script(" + 1")
    caps = {"textDocument": {"inlineCompletion": {}}}
    if encodings:
        caps["general"] = {"positionEncodings": encodings}
    w = await wire()
    await w.initialize(caps)
    w.open(URI, "s = 😀\n")
    answer = await w.request("textDocument/inlineCompletion", inline_params(0, 99), wait_s=5)
    (item,) = answer["result"]["items"]
    assert item["range"]["start"] == {"line": 0, "character": end}


async def test_600_concurrent_requests_over_200_documents_are_all_answered(
    wire, ollama_double
) -> None:
    ollama_double.script("return a + b")
    w = await wire()
    await w.initialize()
    uris = [f"file:///work/project/m{i}.py" for i in range(200)]
    for uri in uris:
        w.open(uri, DOC)
    futures = [w.inline(uris[i % 200], 1, 4) for i in range(600)]
    answers = await asyncio.wait_for(asyncio.gather(*futures), 60)
    assert len(answers) == 600
    assert all("result" in a or a["error"]["code"] == -32800 for a in answers)
    assert sum(bool(a.get("result") and a["result"]["items"]) for a in answers) >= 200


BAD_SETTINGS = [
    ("model", ""), ("model", 5), ("chatModel", ""), ("chatModel", []), ("keepAlive", True),
    ("keepAlive", "forever"), ("unloadPrevious", "yes"), ("completion.debounceMs", -1),
    ("completion.debounceMs", "fast"), ("completion.adaptiveDebounce", "no"),
    ("completion.maxDebounceMs", -5), ("completion.maxTokens", "many"),
    ("completion.maxTokens", -3), ("completion.temperature", 9), ("completion.temperature", "hot"),
    ("completion.multiline", 7), ("completion.prefixLines", -1), ("completion.suffixLines", "x"),
    ("completion.contextTokens", -5), ("completion.timeoutMs", "soon"), ("cache", "big"),
    ("cache.maxEntries", -1), ("cache.ttlSeconds", "long"), ("completion.promptLatencyMs", "x"),
]  # fmt: skip


def nested(key: str, value: object) -> object:
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


async def test_24_bad_setting_values_are_each_reported_once(wire) -> None:
    w = await wire()
    await w.initialize()

    def shown() -> list[str]:
        return [p for p in w.popups() if "invalid settings" in p]

    sentinel = BAD_SETTINGS[0]  # after the last one: a different mistake, so news again
    for n, (key, value) in enumerate([*BAD_SETTINGS, sentinel], start=1):
        for _ in range(2):  # the same mistake twice: told once
            w.notify("workspace/didChangeConfiguration", {"settings": {"ollama": nested(key, value)}})  # fmt: skip
        await w.until(lambda n=n: len(shown()) >= n)  # the repeat, if told, came before
        assert len(shown()) == n
        assert f"ollama.{key}:" in shown()[-1]
    assert len(BAD_SETTINGS) == 24
