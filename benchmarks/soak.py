"""Soak: many inline requests with edits, cancels and Ollama restarts; nothing may go unanswered.

    python -m benchmarks.soak [--requests 20000] [--documents 100] [--outstanding 64]

The real ``ollama-lsp`` runs over stdio against the Ollama double in its own process. Requests
go to random places in 100 documents, most right after an edit (``didChange``), some invoked
and some automatic; a share is cancelled with ``$/cancelRequest`` a few milliseconds after it
was sent (and a share of those cancelled twice), and the double is stopped and started again
on the same port a few times. Every request must still get an answer (a result or an error);
the server's sockets and memory (psutil on its pid) must end where they started, and a fresh
request after the soak must reach Ollama promptly. Sockets and RSS are measured after a short
warm-up at the same concurrency, so that the keep-alive pool and the caches are already at
their steady size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psutil
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from benchmarks.harness import execute, stop_server

ANSWER = "return x * 2"
WARM_UP = 300
#: Longest a request may take to be answered before it counts as unanswered.
ANSWER_TIMEOUT_S = 30.0
SETTLE_S = 1.5


class Double:
    """The Ollama double in its own process on a fixed port, so it can be restarted there."""

    def __init__(self, port: int, options: list[str]) -> None:
        self.port, self.options = port, options
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ollama_double", "--port", str(self.port), *self.options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://{self.host}/api/version", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the Ollama double did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@contextlib.contextmanager
def double_on_free_port(options: list[str]) -> Iterator[Double]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    double = Double(port, options)
    double.start()
    try:
        yield double
    finally:
        double.stop()


async def start_logged_server(host: str, options: dict[str, object], log: str) -> LanguageClient:
    """``harness.start_server``, but the server logs to a file: nobody reads its stderr pipe,
    and a long run fills the pipe until the server blocks on a log line."""
    client = LanguageClient("soak", "1")
    env = {**os.environ, "OLLAMA_HOST": host}
    await client.start_io(sys.executable, "-m", "ollama_lsp", "--log-file", log, env=env)
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


@dataclass
class Document:
    uri: str
    lines: list[str]
    version: int = 1


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    with_text: int = 0
    errors: int = 0
    cancelled: int = 0
    unanswered: int = 0
    edits: int = 0
    slowest_ms: float = 0.0
    restarts: list[float] = field(default_factory=list)


def _text(i: int) -> list[str]:
    return [f"def handler_{i}_{n}(request, x):" if n % 3 == 0 else "    " for n in range(40)]


class Soak:
    def __init__(self, client: LanguageClient, documents: int, seed: int) -> None:
        self.client = client
        self.rnd = random.Random(seed)
        self.docs = [Document(f"file:///soak/mod_{i}.py", _text(i)) for i in range(documents)]
        self.tally = Tally()
        #: Set when that many counted requests have been sent (the restarts wait on them).
        self.milestones: dict[int, asyncio.Event] = {}
        self.progress = 0
        self.began = time.monotonic()

    def open_all(self) -> None:
        for doc in self.docs:
            self.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=doc.uri, language_id="python", version=1, text="\n".join(doc.lines)
                    )
                )
            )

    def edit(self, doc: Document) -> None:
        """Insert a line, delete one, or type a character: the document model stays in step."""
        rnd, line = self.rnd, self.rnd.randrange(len(doc.lines))
        kind = rnd.random()
        if kind < 0.4 or len(doc.lines) < 10:
            change = _change(line, 0, line, 0, "    y = x + 1\n")
            doc.lines.insert(line, "    y = x + 1")
        elif kind < 0.6:
            change = _change(line, 0, line + 1, 0, "") if line + 1 < len(doc.lines) else None
            if change is None:
                return
            del doc.lines[line]
        else:
            at = len(doc.lines[line])
            change = _change(line, at, line, at, "z")
            doc.lines[line] += "z"
        doc.version += 1
        self.tally.edits += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=doc.uri, version=doc.version
                ),
                content_changes=[change],
            )
        )

    async def request(self, counted: bool = True) -> None:
        rnd, tally = self.rnd, self.tally
        doc = rnd.choice(self.docs)
        if rnd.random() < 0.7:
            self.edit(doc)
        line = rnd.randrange(len(doc.lines))
        kind = types.InlineCompletionTriggerKind
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=doc.uri),
            position=types.Position(line, len(doc.lines[line])),
            context=types.InlineCompletionContext(
                trigger_kind=kind.Invoked if rnd.random() < 0.3 else kind.Automatic
            ),
        )
        msg_id = f"soak-{tally.sent}-{rnd.random()}"
        tally.sent += counted
        if counted and (milestone := self.milestones.get(tally.sent)):
            milestone.set()
        if counted and self.progress and tally.sent % self.progress == 0:
            print(
                f"  ... {tally.sent} sent, {tally.answered} answered, "
                f"{tally.unanswered} unanswered, {time.monotonic() - self.began:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        start = time.perf_counter()
        answer = self.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        )
        roll = rnd.random()
        if roll < 0.2:
            await asyncio.sleep(rnd.random() * 0.005)
            self._cancel(msg_id)
            tally.cancelled += counted
            if roll < 0.05:
                await asyncio.sleep(0)
                self._cancel(msg_id)
        try:
            result = await asyncio.wait_for(answer, ANSWER_TIMEOUT_S)
        except TimeoutError:
            tally.unanswered += counted
            return
        except JsonRpcException:
            tally.errors += counted
        else:
            items = result.items if isinstance(result, types.InlineCompletionList) else result
            tally.with_text += counted and bool(items)
        if counted:
            tally.answered += 1
            tally.slowest_ms = max(tally.slowest_ms, (time.perf_counter() - start) * 1000)

    def _cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def run(self, requests: int, outstanding: int, counted: bool = True) -> None:
        limit = asyncio.Semaphore(outstanding)

        async def one() -> None:
            try:
                await self.request(counted)
            finally:
                limit.release()

        tasks: set[asyncio.Task[None]] = set()
        for _ in range(requests):
            await limit.acquire()
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


def _change(
    l1: int, c1: int, l2: int, c2: int, text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(l1, c1), types.Position(l2, c2)), text=text
    )


@dataclass
class Sample:
    sockets: int
    rss_mb: float
    fds: int


def sample(pid: int) -> Sample:
    proc = psutil.Process(pid)
    return Sample(
        sockets=len(proc.net_connections("tcp")),
        rss_mb=proc.memory_info().rss / 2**20,
        fds=proc.num_fds(),
    )


async def restarts(double: Double, soak: Soak, count: int, total: int, outage_s: float) -> None:
    """Stop and start the double ``count`` times, evenly spread over the run."""
    marks = [total * n // (count + 1) for n in range(1, count + 1)]
    soak.milestones = {mark: asyncio.Event() for mark in marks}
    for mark in marks:
        await soak.milestones[mark].wait()
        await asyncio.to_thread(double.stop)
        soak.tally.restarts.append(time.monotonic())
        await asyncio.sleep(outage_s)
        await asyncio.to_thread(double.start)


async def fresh_request(client: LanguageClient, soak: Soak) -> tuple[float, bool]:
    """An invoked completion at a fresh place after the soak: answered, and from Ollama."""
    doc = soak.docs[0]
    doc.lines.append("def after_the_soak(x):")
    doc.lines.append("    ")
    doc.version += 1
    last = len(doc.lines) - 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument("\n".join(doc.lines))],
        )
    )
    start = time.perf_counter()
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=doc.uri),
            position=types.Position(last, 4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    return (time.perf_counter() - start) * 1000, bool(items)


async def soak(args: argparse.Namespace) -> int:
    options = ["--answer", ANSWER, "--first-token-ms", "2", "--token-ms", "1"]
    settings = {"completion": {"debounceMs": 0, "adaptiveDebounce": False}}
    with double_on_free_port(options) as double:
        client = await start_logged_server(double.host, settings, args.server_log)
        pid = client._server.pid if client._server else 0
        said: Counter[str] = Counter()
        client.feature(types.WINDOW_SHOW_MESSAGE)(lambda p: said.update([f"shown: {p.message}"]))
        client.feature(types.WINDOW_LOG_MESSAGE)(lambda p: said.update([f"logged: {p.message}"]))
        runner = Soak(client, args.documents, args.seed)
        runner.open_all()
        after_init = sample(pid)
        await runner.run(WARM_UP, args.outstanding, counted=False)
        await asyncio.sleep(SETTLE_S)
        before = sample(pid)
        started = runner.began = time.monotonic()
        runner.progress = args.progress
        flapping = asyncio.create_task(
            restarts(double, runner, args.restarts, args.requests, args.outage)
        )
        await asyncio.sleep(0)  # the milestones exist before the first request is sent
        await runner.run(args.requests, args.outstanding)
        elapsed = time.monotonic() - started
        await flapping
        await asyncio.sleep(SETTLE_S)
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            fresh_ms, fresh_ok = await fresh_request(client, runner)
            status = await execute(client, "ollama.status")
        after = sample(pid)
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                await stop_server(client)
        except TimeoutError:
            print("  (the LSP client did not stop in time after exit)", file=sys.stderr)
        code = client._server.returncode if client._server else None
        print(f"  server exit code {code}", file=sys.stderr)
    report(args, runner.tally, elapsed, after_init, before, after, fresh_ms, fresh_ok, status)
    for message, count in said.most_common(args.messages):
        print(f"  {count:5} x {message[:150]}")
    return 0 if runner.tally.unanswered == 0 and fresh_ok else 1


def report(
    args: argparse.Namespace,
    t: Tally,
    elapsed: float,
    after_init: Sample,
    before: Sample,
    after: Sample,
    fresh_ms: float,
    fresh_ok: bool,
    status: dict[str, object],
) -> None:
    print(f"soak: {args.requests} inline requests over {args.documents} documents, "
          f"{args.outstanding} outstanding, {len(t.restarts)} Ollama restarts")  # fmt: skip
    print(f"  sent {t.sent}  answered {t.answered}  unanswered {t.unanswered}")
    print(f"  with a suggestion {t.with_text}  errors {t.errors}  cancelled {t.cancelled}  "
          f"edits {t.edits}  slowest answer {t.slowest_ms:.0f} ms")  # fmt: skip
    print(f"  elapsed {elapsed:.1f} s ({t.sent / elapsed:.0f} requests/s)")
    for name, s in (("after init", after_init), ("start", before), ("end", after)):
        print(f"  server {name:10}: sockets {s.sockets:3}  fds {s.fds:3}  RSS {s.rss_mb:6.1f} MB")
    print(f"  fresh invoked request after the soak: {fresh_ms:.0f} ms, "
          f"{'a suggestion' if fresh_ok else 'NO suggestion'}; "
          f"ollama.status reachable={status.get('reachable')}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--outstanding", type=int, default=64)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--outage", type=float, default=0.5, help="seconds Ollama is down")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-log",
        default=os.path.join(tempfile.gettempdir(), "ollama-lsp-soak.log"),
        help="the server's log file",
    )
    parser.add_argument("--progress", type=int, default=0, help="print progress every N")
    parser.add_argument("--messages", type=int, default=8, help="most frequent messages shown")
    sys.exit(asyncio.run(soak(parser.parse_args())))


if __name__ == "__main__":
    main()
