"""LSP frames from a byte stream: miscounted lengths recovered, junk skipped, surrogates
replaced, and the end of input always seen — never a hang."""

from __future__ import annotations

import asyncio
import json

import pytest

from ollama_lsp.framing import LINE_LIMIT, BadFrame, Frames, StreamSource


def frames_over(data: bytes, *, eof: bool = True, grace_s: float = 0.2) -> Frames:
    stream = asyncio.StreamReader(limit=LINE_LIMIT)
    stream.feed_data(data)
    if eof:
        stream.feed_eof()
    return Frames(StreamSource(stream), grace_s=grace_s)


def framed(message: dict, *, length: int | None = None) -> bytes:
    body = json.dumps(message, ensure_ascii=False).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body) if length is None else length, body)


async def read_all(frames: Frames) -> list[object]:
    found: list[object] = []
    while True:
        try:
            message = await asyncio.wait_for(frames.next(), 2)
        except BadFrame as exc:
            found.append(exc)
            continue
        if message is None:
            return found
        found.append(message)


MESSAGE = {"jsonrpc": "2.0", "method": "x", "params": {"text": "élan 😀 中"}}
AFTER = {"jsonrpc": "2.0", "id": 2, "method": "y"}


@pytest.mark.parametrize("count", ["bytes", "code points", "utf-16 units"])
async def test_a_length_in_any_unit_is_understood_and_the_next_message_kept(count: str) -> None:
    text = json.dumps(MESSAGE, ensure_ascii=False)
    length = {
        "bytes": len(text.encode()),
        "code points": len(text),
        "utf-16 units": len(text.encode("utf-16-le")) // 2,
    }[count]
    assert await read_all(frames_over(framed(MESSAGE, length=length) + framed(AFTER))) == [
        MESSAGE,
        AFTER,
    ]


async def test_a_broken_body_with_nothing_after_it_is_a_bad_frame_not_a_hang() -> None:
    body = '{"jsonrpc": "2.0", "id": 1, "method": "é'.encode()  # cut short by the client
    data = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    frames = frames_over(data, eof=False, grace_s=0.05)  # the client waits for an answer
    with pytest.raises(BadFrame):
        await asyncio.wait_for(frames.next(), 2)


async def test_junk_and_overlong_lines_are_skipped() -> None:
    junk = b"garbage\r\n" + b"x" * (LINE_LIMIT * 2) + b"\r\n\r\n" + b"}}"
    found = await read_all(frames_over(junk + framed(AFTER) + framed(AFTER)))
    assert found == [AFTER, AFTER]


async def test_a_body_that_is_no_json_is_reported_and_reading_goes_on() -> None:
    bad = b"Content-Length: 8\r\n\r\nnot json"
    found = await read_all(frames_over(bad + framed(AFTER)))
    assert isinstance(found[0], BadFrame) and found[1:] == [AFTER]


async def test_lone_surrogates_are_replaced_and_pairs_kept() -> None:
    body = b'{"jsonrpc": "2.0", "method": "x", "params": {"\\ud800k": ["a\\udfffb", "\\ud83d\\ude00"]}}'
    (message,) = await read_all(frames_over(b"Content-Length: %d\r\n\r\n%s" % (len(body), body)))
    assert message["params"] == {"\ufffdk": ["a\ufffdb", "😀"]}


async def test_the_end_of_input_mid_message_ends_the_frames() -> None:
    assert await read_all(frames_over(framed(AFTER)[:-3])) == []
