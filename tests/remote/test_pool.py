"""A pool without a load balancer: ``ollama.host`` lists two Ollama servers, one dies and returns.

The server itself fails over (the keystroke's request is sent again to the other host), shows
each host's state in ``ollama.status``, probes the dead one, and sends a document back to the
host that served it once that host is up again (its prompt cache is there).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Any

from tests.e2e.conftest import inline, open_document
from tests.ollama.hostile import Received, hostile_server, send

from .conftest import ANSWER, StartRemote
from .editing import DOC, STUBS, URI, Typist, complete
from .upstreams import Upstream

PROBE_WAIT_S = 60


def state_of(status: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    (entry,) = [h for h in status["hosts"] if h["host"].endswith(upstream.host)]
    return entry


async def test_a_pool_fails_over_and_goes_back_to_a_recovered_host(
    start_remote: StartRemote, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    session = await start_remote({"host": [a.url, b.url]})
    client = session.client
    status = await session.status()
    assert [h["host"] for h in status["hosts"]] == [a.url, b.url]
    assert all(h["state"] in ("up", "unknown") for h in status["hosts"])

    open_document(client, URI, DOC)
    typist = Typist(client)
    for i in range(3):
        typist.type()
        assert await complete(client, i) == [ANSWER]
    (home,) = [u for u in upstreams if u.completions()]
    (other,) = [u for u in upstreams if u is not home]
    assert len(home.completions()) == 3  # affinity: one document stays on one host
    assert home.double is not None

    last = max(r.id for r in home.completions())
    in_flight = asyncio.ensure_future(complete(client, 3))
    await home.double.wait_for_async(
        lambda r: r.id > last and r.path == "/api/generate" and r.phase == "streaming"
    )
    home.kill()
    lost = 0 if await in_flight == [ANSWER] else 1

    later = []
    for i in range(4, 20):
        typist.type()
        later.append(await complete(client, i))
    assert later == [[ANSWER]] * 16, f"lost beyond the one in flight ({lost} lost there)"
    assert len(other.completions()) >= 16
    down = state_of(await session.status(), home)
    assert down["state"] == "down" and down["error"]

    home.restart()
    assert home.double is not None
    await home.double.wait_for_async(lambda r: True, timeout=PROBE_WAIT_S)  # the probe came
    up = await until_up(session, home)
    assert up["error"] is None

    answered_before = len(other.completions())
    for i in range(20, STUBS):
        typist.type()
        assert await complete(client, i) == [ANSWER]
    assert home.completions(), "the recovered host was not used again for its document"
    assert len(home.completions()) == STUBS - 20
    assert len(other.completions()) == answered_before


async def until_up(session: Any, upstream: Upstream, wait_s: float = 10) -> dict[str, Any]:
    """Status until ``upstream`` shows up: the probe's answer is applied after it arrives."""
    deadline = time.monotonic() + wait_s
    while (entry := state_of(await session.status(), upstream))["state"] != "up":
        assert time.monotonic() < deadline, f"{upstream} still {entry} after the probe"
        await asyncio.sleep(0.05)
    return entry


async def test_a_request_whose_host_dies_before_answering_goes_to_the_other_host(
    start_remote: StartRemote, upstreams: tuple[Upstream, Upstream]
) -> None:
    """Nothing came back yet, so the keystroke's request can still be answered by the pool."""
    a, b = upstreams
    session = await start_remote({"host": [a.url, b.url]})
    client = session.client
    open_document(client, URI, DOC)
    assert await complete(client, 0) == [ANSWER]
    (home,) = [u for u in upstreams if u.completions()]
    (other,) = [u for u in upstreams if u is not home]
    assert home.double is not None
    home.double.inject_fault("hang")  # takes the request, sends nothing
    in_flight = asyncio.ensure_future(complete(client, 1))
    await home.double.wait_for_async(lambda r: r.phase == "hanging")
    home.kill()
    assert await in_flight == [ANSWER]
    assert len(other.completions()) == 1


async def test_a_connection_reset_before_any_answer_goes_to_the_other_host(
    start_remote: StartRemote, upstreams: tuple[Upstream, Upstream]
) -> None:
    """A host killed while the request was arriving resets the connection (ECONNRESET, not EOF):
    it is just as down, and the request just as unanswered, as a refused connection."""
    _, b = upstreams

    async def reset(request: Received, writer: asyncio.StreamWriter) -> None:
        if request.path == "/api/version":
            await send(writer, 200, {"version": "0.12.0"})
            return
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, as the kernel sends for a process that died

    async with hostile_server(reset) as dying:
        session = await start_remote({"host": [b.url, f"http://{dying.host}"]})
        uris = [f"file:///work/project/m{i}.py" for i in range(10)]
        for uri in uris:
            open_document(session.client, uri, DOC)
        answers = [await asyncio.wait_for(inline(session.client, uri, 2, 4), 15) for uri in uris]
    assert any(r.path == "/api/generate" for r in dying.received), "no document went there"
    assert [[i.insert_text for i in items] for items in answers] == [[ANSWER]] * len(uris)
