"""What the server costs next to the model: resident memory, and time added to a model switch.

    python -m benchmarks.resources [--completions 1000] [--switches 10] [--load-ms 300]

Starts ``ollama-lsp`` against the Ollama double and prints:

- resident memory (RSS) idle after ``initialize``, and after ``--completions`` distinct
  completions (every one a cache miss, so the cache ends full at ``cache.maxEntries``);
- the time ``ollama.selectModel`` takes end to end, the part of it the double spent (the
  model load, ``--load-ms``, plus its other requests), and the difference: what the server
  adds to a switch. Switches alternate between CodeLlama and TinyLlama, so every one loads a
  model and unloads the previous one, as a user's switch does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.harness import execute, start_server, stop_server
from tests.ollama_double import OllamaDouble

MODELS = ("tinyllama:1.1b-chat-v1-q4_0", "codellama:7b-code")


def rss_mb(client: LanguageClient) -> float:
    return psutil.Process(client._server.pid).memory_info().rss / 1e6  # type: ignore[union-attr]


async def fill_cache(client: LanguageClient, double: OllamaDouble, count: int) -> int:
    """``count`` explicit completions at distinct places; returns the cache entries after."""
    text = "".join(f"def handler_{i}(request):\n    \n\n" for i in range(count))
    uri = "file:///bench/fill.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    double.set_responder(lambda body: "return request.json()  # " + "x" * 40)
    for i in range(count):
        await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(3 * i + 1, 4),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
    status = await execute(client, "ollama.status")
    return status["cache"]["entries"]


async def switch_costs(
    client: LanguageClient, double: OllamaDouble, switches: int
) -> tuple[list[float], list[float]]:
    """End-to-end and double-own milliseconds of each ``ollama.selectModel``."""
    total, own = [], []
    for n in range(switches):
        double.reset_records()
        start = time.perf_counter()
        await execute(client, "ollama.selectModel", MODELS[n % 2])
        elapsed = time.perf_counter() - start
        served = [r for r in double.requests if r.finished is not None]
        total.append(elapsed * 1000)
        own.append(sum(r.finished - r.started for r in served) * 1000)  # type: ignore[operator]
    return total, own


async def main_async(args: argparse.Namespace) -> None:
    with OllamaDouble() as double:
        client = await start_server(double.host, {})
        await asyncio.sleep(1.0)  # warm-up done, imports settled
        idle = rss_mb(client)
        entries = await fill_cache(client, double, args.completions)
        full = rss_mb(client)
        double.latency.load_s = args.load_ms / 1000
        total, own = await switch_costs(client, double, args.switches)
        await stop_server(client)
    added = [t - o for t, o in zip(total, own, strict=True)]
    print(f"RSS idle:                                   {idle:7.1f} MB")
    print(f"RSS after {args.completions} completions ({entries} cached):  {full:7.1f} MB")
    print(
        f"model switch, end to end:                   p50 {statistics.median(total):7.1f} ms"
        f"  (the double's own time p50 {statistics.median(own):.1f} ms)"
    )
    print(
        f"time the server adds to a switch:           p50 {statistics.median(added):7.2f} ms,"
        f" max {max(added):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--completions", type=int, default=1000)
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--load-ms", type=float, default=300.0, help="the double's model load")
    sys.setswitchinterval(1e-4)  # the double shares this process; hand the GIL over quickly
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
