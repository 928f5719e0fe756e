"""What sharing a GPU server costs and how a failover goes: direct vs nginx vs nginx with TLS.

    python -m benchmarks.remote [--rounds 200] [--burst 60] [--json]

Two Ollama doubles run in their own processes (``--first-token-ms``, ``--token-ms``), and
nginx (``tests/remote/nginx.conf``, the README's, with a test CA) in front of them. Three
``ollama-lsp`` processes ask for the same explicit completions, interleaved round by round:
one straight to the double nginx sends this token to, one through nginx's loopback HTTP port,
one through HTTPS with the Bearer token. Paired differences give the proxy hop and TLS.

Failover: a burst of completions in which the upstream serving them is SIGKILLed while one is
in flight; then the dead double is started again on its port and completions go on until it
answers one: the time to use a recovered host. Done through nginx (its passive health check,
``fail_timeout``) and with a pool of the two hosts in ``ollama.host`` (the server's own
failover and probe). The doubles answer differently, so each answer says who served it.
Reuse is off (``cache.maxEntries`` 0): every request reaches a double.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.harness import pct, stop_server
from benchmarks.soak import Double, start_logged_server
from tests.remote.certs import make_certs
from tests.remote.nginx import Nginx, nginx_binary

TOKEN_ENV = "OLLAMA_LSP_TOKEN"
ANSWERS = {"a": "return a + b", "b": "return b + a"}
URI = "file:///bench/remote.py"
TEXT = "def add(a, b):\n    \n"
COMMON = {"cache": {"maxEntries": 0}, "completion": {"prefill": False, "speculate": False}}
RECOVERY_WAIT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Upstream(Double):
    """A double process that dies by SIGKILL, as a crashed host does."""

    def __init__(self, name: str, first_token_ms: float, token_ms: float) -> None:
        options = ["--answer", ANSWERS[name], "--first-token-ms", str(first_token_ms)]
        super().__init__(free_port(), [*options, "--token-ms", str(token_ms)])
        self.name = name

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class Editor:
    """One ``ollama-lsp`` process with the document open, asking at the same place each time."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client

    @classmethod
    async def start(cls, host: str | list[str], log: Path, **settings: Any) -> Editor:
        first = host if isinstance(host, str) else host[0]
        client = await start_logged_server(first, {**COMMON, "host": host, **settings}, str(log))
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=URI, language_id="python", version=1, text=TEXT
                )
            )
        )
        return cls(client)

    def ask(self) -> asyncio.Future[Any]:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(1, 4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        return asyncio.ensure_future(self.client.text_document_inline_completion_async(params))

    async def complete(self) -> tuple[float, str | None]:
        """(milliseconds, who answered: ``a``, ``b``, or None for an empty answer or error)."""
        start = time.perf_counter()
        try:
            result = await asyncio.wait_for(self.ask(), 30)
        except Exception:
            return (time.perf_counter() - start) * 1000, None
        return (time.perf_counter() - start) * 1000, who(result)


def who(result: Any) -> str | None:
    items = [] if result is None else getattr(result, "items", result)
    texts = [item.insert_text for item in items]
    for name, answer in ANSWERS.items():
        if texts == [answer]:
            return name
    return None


async def latency(editors: dict[str, Editor], rounds: int) -> dict[str, list[float]]:
    """Interleaved: each round asks every editor once, so drift on the machine cancels out."""
    times: dict[str, list[float]] = {name: [] for name in editors}
    for _ in range(5):  # connections open, TLS sessions established
        for editor in editors.values():
            await editor.complete()
    for _ in range(rounds):
        for name, editor in editors.items():
            elapsed, served = await editor.complete()
            if served is None:
                raise RuntimeError(f"{name}: a completion failed while nothing was failing")
            times[name].append(elapsed)
    return times


async def failover(
    editor: Editor, upstreams: dict[str, Upstream], burst: int, kill_after_s: float
) -> dict[str, Any]:
    """Kill the serving upstream ``kill_after_s`` into a request, finish the burst, restart it."""
    _, serving = await editor.complete()
    if serving is None:
        raise RuntimeError("no completion before the failover")
    victim = upstreams[serving]
    lost_in_flight = lost_after = 0
    for i in range(burst):
        if i != burst // 3:
            _, served = await editor.complete()
            lost_after += int(served is None)
            continue
        in_flight = editor.ask()
        await asyncio.sleep(kill_after_s)
        victim.kill()
        try:
            lost_in_flight = int(who(await asyncio.wait_for(in_flight, 30)) is None)
        except Exception:
            lost_in_flight = 1
    victim.start()
    restarted = time.monotonic()
    back_s = None
    while time.monotonic() - restarted < RECOVERY_WAIT_S:
        _, served = await editor.complete()
        if served == victim.name:
            back_s = time.monotonic() - restarted
            break
        await asyncio.sleep(0.05)  # an editor asks a few times a second while you type
    return {"lost in flight": lost_in_flight, "lost after": lost_after, "back s": back_s}


async def failovers(
    editor: Editor,
    upstreams: dict[str, Upstream],
    burst: int,
    repeats: int,
    latency_ms: tuple[float, float],
) -> dict[str, list[dict[str, Any]]]:
    """Kills before the first token (nothing sent back yet: can be retried) and mid-stream."""
    first_token_ms, token_ms = latency_ms
    timings = {
        "before the first token": first_token_ms / 2000,
        "mid-stream": (first_token_ms + 3.5 * token_ms) / 1000,
    }
    return {
        when: [await failover(editor, upstreams, burst, after_s) for _ in range(repeats)]
        for when, after_s in timings.items()
    }


async def measure(
    rounds: int, burst: int, repeats: int, first_token_ms: float, token_ms: float
) -> dict[str, Any]:
    binary = nginx_binary()
    if binary is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx-light")
    work = Path(tempfile.mkdtemp(prefix="ollama-lsp-remote-bench-"))
    certs = make_certs(work / "certs")
    token = os.urandom(16).hex()
    os.environ[TOKEN_ENV] = token
    headers = {"Authorization": "Bearer ${env:" + TOKEN_ENV + "}"}
    upstreams = {name: Upstream(name, first_token_ms, token_ms) for name in ANSWERS}
    for upstream in upstreams.values():
        upstream.start()
    proxy = Nginx(
        upstreams=(upstreams["a"].host, upstreams["b"].host),
        cert=certs.cert,
        key=certs.key,
        token=token,
        binary=binary,
    ).start()
    editors: dict[str, Editor] = {}
    try:
        tls = {"caFile": str(certs.ca)}
        editors["nginx https"] = await Editor.start(
            proxy.https_url, work / "https.log", headers=headers, tls=tls
        )
        editors["nginx http"] = await Editor.start(
            proxy.http_url, work / "http.log", headers=headers
        )
        _, hashed = await editors["nginx https"].complete()
        if hashed is None:
            raise RuntimeError(f"no completion through nginx; see {work}/https.log\n{proxy.logs()}")
        editors["direct"] = await Editor.start(upstreams[hashed].url, work / "direct.log")
        editors = {name: editors[name] for name in ("direct", "nginx http", "nginx https")}
        times = await latency(editors, rounds)
        results: dict[str, Any] = {"latency ms": times}
        results["failover"] = {
            "nginx": await failovers(
                editors["nginx https"], upstreams, burst, repeats, (first_token_ms, token_ms)
            )
        }
        pool = await Editor.start([upstreams["a"].url, upstreams["b"].url], work / "pool.log")
        editors["pool"] = pool
        results["failover"]["pool"] = await failovers(
            pool, upstreams, burst, repeats, (first_token_ms, token_ms)
        )
        return results
    finally:
        for editor in editors.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stop_server(editor.client), 10)
        proxy.cleanup()
        for upstream in upstreams.values():
            upstream.stop()


def summary(results: dict[str, Any]) -> dict[str, Any]:
    times = results["latency ms"]
    direct, http, https = times["direct"], times["nginx http"], times["nginx https"]
    hop = [h - d for h, d in zip(http, direct, strict=True)]
    tls = [s - h for s, h in zip(https, http, strict=True)]
    rows = {name: {"p50": pct(v, 0.5), "p95": pct(v, 0.95)} for name, v in times.items()}
    rows["added by the nginx hop (paired)"] = {"p50": pct(hop, 0.5), "p95": pct(hop, 0.95)}
    rows["added by TLS (paired)"] = {"p50": pct(tls, 0.5), "p95": pct(tls, 0.95)}
    failover: dict[str, Any] = {}
    for path, by_when in results["failover"].items():
        for when, runs in by_when.items():
            backs = [r["back s"] for r in runs if r["back s"] is not None]
            failover[f"{path}, killed {when}"] = {
                "failovers": len(runs),
                "lost in flight": sum(r["lost in flight"] for r in runs),
                "lost after": sum(r["lost after"] for r in runs),
                "recovered host used again s (median)": pct(backs, 0.5) if backs else None,
                "never used again": len(runs) - len(backs),
            }
    return {"rounds": len(direct), "latency ms": rows, "failover": failover}


def report(summed: dict[str, Any]) -> None:
    print(f"completion latency through ollama-lsp, {summed['rounds']} interleaved rounds")
    print(f"{'path':34} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in summed["latency ms"].items():
        print(f"{name:34} {row['p50']:8.2f} {row['p95']:8.2f}")
    print()
    print(f"{'failover (upstream SIGKILLed)':42} {'runs':>4} {'lost in flight':>14} {'lost after':>10} {'back in (median)':>16}")  # fmt: skip
    for name, row in summed["failover"].items():
        back = row["recovered host used again s (median)"]
        back_text = "never" if back is None else f"{back:.2f} s"
        print(
            f"{name:42} {row['failovers']:>4} {row['lost in flight']:>14}"
            f" {row['lost after']:>10} {back_text:>16}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--burst", type=int, default=30, help="completions in a failover burst")
    parser.add_argument("--repeats", type=int, default=3, help="failovers of each kind")
    parser.add_argument("--first-token-ms", type=float, default=20.0)
    parser.add_argument("--token-ms", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    # pygls's client warns of every window/logMessage it has no handler for: not our numbers.
    logging.getLogger("pygls").setLevel(logging.ERROR)
    results = asyncio.run(
        measure(args.rounds, args.burst, args.repeats, args.first_token_ms, args.token_ms)
    )
    summed = summary(results)
    if args.json:
        print(json.dumps({**summed, "raw latency ms": results["latency ms"]}, indent=2))
    else:
        report(summed)


if __name__ == "__main__":
    main()
