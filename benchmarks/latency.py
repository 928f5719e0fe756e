"""Latency the server adds on top of Ollama, and the latency of cache hits.

    python -m benchmarks.latency [--rounds 60] [--edits 20000]

"On top of Ollama" is measured against the only alternative a client has: calling Ollama
itself. The double runs in its own process with a fixed time to first token; the same
completions are asked for through ``ollama-lsp`` (explicit requests, cache misses) and as
direct streaming ``/api/generate`` calls with a prompt of the same size, interleaved round by
round. The paired difference is what the server adds: JSON-RPC over stdio, reading the document, building the
prompt, post-processing. The JSON-RPC floor (a request the server answers at once) is
printed too, since no LSP server can go below it. Small and 2 MB documents are compared.

The server's own work on a cache hit is the hit minus the floor, paired: each hit is
followed by a floor request in the same round, so both see the same machine load.

Memory under typing: ``--edits`` didChange notifications (a character typed, then deleted)
are sent to the small document, and the server's RSS is read before and after; it must stay
flat (pygls 2.1.1 kept ~1.9 KB per notification, see ``ollama_lsp.protocol``).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.harness import double_process, execute, pct, start_server, stop_server

ANSWER = "return x * 2"
UNIT = "def handler_{i}(request):\n    payload = request.json()\n    return payload\n\n"


class Probe:
    """One server with one document open: explicit completions at fresh places, or repeated."""

    def __init__(self, client: LanguageClient, uri: str, base_line: int) -> None:
        self.client, self.uri, self.base_line = client, uri, base_line

    @classmethod
    async def start(cls, host: str, big: bool, rounds: int) -> Probe:
        client = await start_server(host, {})
        filler = "".join(UNIT.format(i=i) for i in range(25_000)) if big else UNIT.format(i=0)
        text = filler + "".join(f"def probe_{i}(x):\n    \n\n" for i in range(rounds))
        uri = "file:///bench/probe.py"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        return cls(client, uri, filler.count("\n"))

    async def complete(self, i: int) -> float:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            position=types.Position(self.base_line + 3 * i + 1, 4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        start = time.perf_counter()
        result = await self.client.text_document_inline_completion_async(params)
        elapsed = (time.perf_counter() - start) * 1000
        assert result and result.items[0].insert_text == ANSWER, result
        return elapsed

    async def type_and_delete(self, edits: int) -> None:
        """``edits`` didChange notifications at the end of the document, then one request."""
        line = self.base_line
        for n in range(edits):
            at = types.Position(line, 0)
            end = types.Position(line, 1) if n % 2 else at
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=self.uri, version=n + 2
                    ),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(at, end), text="" if n % 2 else "x"
                        )
                    ],
                )
            )
            if n % 500 == 0:
                await self.floor()  # let the server keep up, as a typist would
        await self.floor()

    def rss(self) -> int:
        """The server process's resident memory, in bytes."""
        return psutil.Process(self.client._server.pid).memory_info().rss  # type: ignore[union-attr]

    async def floor(self) -> float:
        """A request the server answers at once (``ollama.accepted``): JSON-RPC alone."""
        start = time.perf_counter()
        await execute(self.client, "ollama.accepted", "file:///none")
        return (time.perf_counter() - start) * 1000


async def direct(http: httpx.AsyncClient, i: int) -> float:
    """The same generation asked of the double directly, streamed, as a client could."""
    prompt = "<PRE> " + "".join(f"def probe_{n}(x):\n    \n\n" for n in range(40)) + " <SUF> <MID>"
    body = {"model": "codellama:7b-code", "prompt": f"{prompt}{i}", "raw": True}
    start = time.perf_counter()
    async with http.stream("POST", "/api/generate", json=body) as response:
        async for _ in response.aiter_lines():
            pass
    return (time.perf_counter() - start) * 1000


async def measure(rounds: int, edits: int) -> dict[str, list[float]]:
    """Interleaved rounds (direct, small, 2 MB), so drift on a shared machine cancels out."""
    names = ("floor", "direct", "small miss", "2 MB miss", "small hit", "2 MB hit", "hit floor")
    results: dict[str, list[float]] = {k: [] for k in (*names, "rss")}
    with double_process("--answer", ANSWER, "--first-token-ms", "50") as host:
        probes = {
            "small": await Probe.start(host, False, rounds),
            "2 MB": await Probe.start(host, True, rounds),
        }
        await asyncio.sleep(1.0)  # let the warm-up loads finish
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            await direct(http, -1)  # open the connection
            for i in range(rounds):
                results["direct"].append(await direct(http, i))
                for name, probe in probes.items():
                    results[f"{name} miss"].append(await probe.complete(i))
                results["floor"].append(await probes["small"].floor())
        for i in range(rounds):
            for name, probe in probes.items():
                results[f"{name} hit"].append(await probe.complete(i))
            results["hit floor"].append(await probes["small"].floor())
        if edits:
            small = probes["small"]
            await small.type_and_delete(1000)  # warm: the first edits allocate for good
            before = small.rss()
            await small.type_and_delete(edits)
            results["rss"] = [before, small.rss()]
        for probe in probes.values():
            await stop_server(probe.client)
        results.update(await lean(host, rounds))
    return results


async def lean(host: str, rounds: int) -> dict[str, list[float]]:
    """Cache hits and the floor through a raw JSON-RPC client (``tests.e2e.wire``).

    pygls's own client spends ~0.3 ms per response on its side (dispatch by runtime-Protocol
    ``isinstance``, cattrs structuring), which the numbers above include; an editor's client
    (VS Code's, Neovim's) does not pay that. This measures what the server adds.
    """
    from tests.e2e.wire import Wire

    wire = await Wire.start(host)
    await wire.initialize(
        {"textDocument": {"inlineCompletion": {}}, "general": {"positionEncodings": ["utf-16"]}}
    )
    wire.open(
        "file:///bench/lean.py", "".join(f"def probe_{i}(x):\n    \n\n" for i in range(rounds))
    )
    for i in range(rounds):  # misses: fill the cache
        await wire.request("textDocument/inlineCompletion", _lean_params(i))
    hits, floors = [], []
    for _ in range(3):
        for i in range(rounds):
            start = time.perf_counter()
            answer = await wire.request("textDocument/inlineCompletion", _lean_params(i))
            hits.append((time.perf_counter() - start) * 1000)
            assert answer["result"]["items"][0]["insertText"] == ANSWER, answer
            start = time.perf_counter()
            await wire.request("workspace/executeCommand", {"command": "ollama.accepted", "arguments": ["file:///none"]})  # fmt: skip
            floors.append((time.perf_counter() - start) * 1000)
    await wire.request("shutdown")
    wire.notify("exit")
    await wire.exit_code()
    await wire.close()
    return {"lean hit": hits, "lean floor": floors}


def _lean_params(i: int) -> dict[str, object]:
    return {
        "textDocument": {"uri": "file:///bench/lean.py"},
        "position": {"line": 3 * i + 1, "character": 4},
        "context": {"triggerKind": 1},
    }


def report(results: dict[str, list[float]]) -> None:
    floor, base = results["floor"], results["direct"]
    print(
        f"JSON-RPC floor (answered at once):   p50 {pct(floor, 0.5):6.2f} ms  p95 {pct(floor, 0.95):6.2f} ms"
    )
    print(
        f"direct call to the double:           p50 {pct(base, 0.5):6.2f} ms  p95 {pct(base, 0.95):6.2f} ms"
    )
    for name in ("small", "2 MB"):
        miss = results[f"{name} miss"]
        added = [m - d for m, d in zip(miss, base, strict=True)]  # paired: same round
        print(
            f"{name:5} document, through ollama-lsp: p50 {pct(miss, 0.5):6.2f} ms  "
            f"p95 {pct(miss, 0.95):6.2f} ms  -> added p50 {pct(added, 0.5):5.2f} ms,"
            f" p95 {pct(added, 0.95):5.2f} ms"
        )
    for name in ("small", "2 MB"):
        hit = results[f"{name} hit"]
        print(f"{name:5} document, cache hit, end to end: p50 {pct(hit, 0.5):5.2f} ms  p95 {pct(hit, 0.95):5.2f} ms")  # fmt: skip
        work = [h - f for h, f in zip(hit, results["hit floor"], strict=True)]
        print(f"{name:5} document, cache hit, server work (hit - floor, paired): p50 {pct(work, 0.5):5.2f} ms")  # fmt: skip
    lean_hit, lean_floor = results["lean hit"], results["lean floor"]
    print(f"small document, cache hit, raw JSON client: p50 {pct(lean_hit, 0.5):5.2f} ms  p95 {pct(lean_hit, 0.95):5.2f} ms  (floor p50 {pct(lean_floor, 0.5):5.2f} ms)")  # fmt: skip
    if results["rss"]:
        before, after = results["rss"]
        print(f"server RSS over the typing run: {before / 2**20:.1f} MB -> {after / 2**20:.1f} MB ({(after - before) / 2**20:+.1f} MB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--edits", type=int, default=20_000, help="didChange notifications")
    args = parser.parse_args()
    report(asyncio.run(measure(args.rounds, args.edits)))


if __name__ == "__main__":
    main()
