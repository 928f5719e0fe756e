"""Replay a human typing session against ollama-lsp and the Ollama double; print the costs.

    python -m benchmarks.typing_replay [--keystrokes 600] [--speed 1] [--seed 7]

A seeded typist writes the files in ``benchmarks/corpus`` at human speed (lognormal gaps
between keys, pauses at line ends and now and then to think; Enter auto-indents as editors
do) and accepts a shown suggestion when it matches what it was about to type. Like VS Code,
the editor asks for an inline completion on every keystroke and cancels the previous request
if it is still pending. The double plays a 7B model on a laptop (first token 50 ms, 40
tokens/s, prompt evaluation 0.8 ms per token not already cached) and answers with the real
continuation 70 % of the time and a plausible wrong one otherwise, a few lines long, so early
stopping matters.

The same session runs three times in one process, side by side: ollama-lsp as configured by
default (a fixed debounce), the same with the adaptive one (``adaptiveDebounce: true``), and a naive
configuration (no debounce, no cache, no typing-through, no sharing of in-flight generations). Then ``benchmarks.latency`` measures the latency the server adds on top of
Ollama (small and 2 MB documents) and the latency of cache hits.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks import latency
from benchmarks.harness import pct, start_server, stop_server
from tests.ollama_double import OllamaDouble

CORPUS = Path(__file__).parent / "corpus"
LANGUAGES = {".py": "python", ".js": "javascript", ".go": "go"}
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
NAIVE = {"completion": {"debounceMs": 0}, "cache": {"maxEntries": 0}}
ADAPTIVE = {"completion": {"adaptiveDebounce": True}}
CONFIGS = {"ollama-lsp": {}, "adaptive debounce": ADAPTIVE, "naive": NAIVE}


# -- the simulated model -------------------------------------------------------------------


def make_responder(files: dict[str, str]):
    """Answer FIM prompts with the true continuation of the file being typed (mostly)."""

    def respond(body: dict[str, Any]) -> str | None:
        prompt = body.get("prompt") or ""
        if "<PRE> " not in prompt or " <SUF>" not in prompt:
            return None
        prefix = prompt.split("<PRE> ", 1)[1].split(" <SUF>", 1)[0]
        tail = prefix[-160:]
        for text in files.values():
            at = text.rfind(tail) if tail else 0
            if at >= 0:
                truth = text[at + len(tail) :]
                break
        else:
            return "pass"
        answer = _first_lines(truth, 3)
        if int(hashlib.sha256(prefix.encode()).hexdigest(), 16) % 10 >= 7:
            answer = re.sub(r"\w+", lambda m: m.group(0)[::-1], answer, count=2)
        return answer or "\n"

    return respond


def _first_lines(text: str, n: int) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:n])


# -- the typist ----------------------------------------------------------------------------


@dataclass
class Session:
    keystrokes: int = 0
    accepted: int = 0
    accepted_chars: int = 0
    requests: int = 0
    suggestions: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)
    peak_rss: int = 0


class Typist:
    def __init__(self, client: LanguageClient, rng: random.Random, speed: float) -> None:
        self.client = client
        self.rng = rng
        self.speed = speed
        self.session = Session()
        self.msg_id = 0
        self.pending: tuple[str, asyncio.Task[Any]] | None = None

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)

    def gap(self, ch: str) -> float:
        base = self.rng.lognormvariate(-2.1, 0.35)  # median ~120 ms between keys
        if not ch.isalnum():
            base += 0.06
        if self.rng.random() < 0.03:
            base += self.rng.uniform(1.0, 2.5)  # thinking
        return base

    async def type_file(self, uri: str, text: str, language: str, budget: int) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=""
                )
            )
        )
        doc, version, pos = "", 1, 0
        while pos < len(text) and self.session.keystrokes < budget:
            ch = text[pos]
            insert = ch
            if ch == "\n":
                indent = re.match(r"[ \t]*", text[pos + 1 :]).group(0)  # type: ignore[union-attr]
                insert = "\n" + indent
            version += 1
            self._change(uri, version, doc, insert)
            doc += insert
            pos += len(insert)
            self.session.keystrokes += 1
            self._ask(uri, doc)
            await self.sleep(self.gap(ch) + (self.rng.uniform(0.3, 0.9) if ch == "\n" else 0))
            suggestion = self._shown()
            if suggestion and text.startswith(suggestion, pos) and self.rng.random() < 0.85:
                await self.sleep(0.25)  # reading it
                version += 1
                self._change(uri, version, doc, suggestion)
                doc += suggestion
                pos += len(suggestion)
                self.session.accepted += 1
                self.session.accepted_chars += len(suggestion)
                await self.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="ollama.accepted", arguments=[uri])
                )
                self._ask(uri, doc)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def _change(self, uri: str, version: int, doc: str, insert: str) -> None:
        line = doc.count("\n")
        col = len(doc) - (doc.rfind("\n") + 1)
        at = types.Position(line, _utf16(doc[len(doc) - col :]) if col else 0)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=types.Range(at, at), text=insert)
                ],
            )
        )

    def _ask(self, uri: str, doc: str) -> None:
        if self.pending and not self.pending[1].done():
            self.client.protocol.notify(
                types.CANCEL_REQUEST, types.CancelParams(id=self.pending[0])
            )
        self.msg_id += 1
        msg_id = f"r{self.msg_id}"
        line = doc.count("\n")
        col = _utf16(doc[doc.rfind("\n") + 1 :])
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, col),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
        self.session.requests += 1
        self.pending = (msg_id, asyncio.create_task(self._request(params, msg_id)))

    async def _request(self, params: types.InlineCompletionParams, msg_id: str) -> str:
        start = time.perf_counter()
        try:
            result = await self.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
            )
        except Exception:
            return ""
        items = getattr(result, "items", None) or []
        text = items[0].insert_text if items else ""
        if text:  # what the user waits for: keystroke to ghost text (empty answers show nothing)
            self.session.latencies_ms.append((time.perf_counter() - start) * 1000)
            self.session.shown.add(text)
            self.session.suggestions += 1
        return text

    def _shown(self) -> str:
        if self.pending and self.pending[1].done() and not self.pending[1].cancelled():
            return self.pending[1].result()
        return ""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- running the server --------------------------------------------------------------------


async def watch_rss(client: LanguageClient, session: Session) -> None:
    proc = psutil.Process(client._server.pid)  # type: ignore[union-attr]
    while True:
        session.peak_rss = max(session.peak_rss, proc.memory_info().rss)
        await asyncio.sleep(0.2)


async def run_session(
    double: OllamaDouble, options: dict[str, Any], files: dict[str, str], args: argparse.Namespace
) -> tuple[Session, dict[str, Any], list[Any]]:
    double.reset_records()
    client = await start_server(double.host, options)
    typist = Typist(client, random.Random(args.seed), args.speed)
    watcher = asyncio.create_task(watch_rss(client, typist.session))
    per_file = args.keystrokes // len(files) + 1
    for n, (name, text) in enumerate(files.items(), start=1):
        budget = min(args.keystrokes, per_file * n)
        uri = f"file:///bench/{name}"
        await typist.type_file(uri, text, LANGUAGES[Path(name).suffix], budget)
    await asyncio.sleep(0.5)
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ollama.status")
    )
    watcher.cancel()
    await stop_server(client)
    calls = [r for r in double.requests_to("/api/generate") if r.body and r.body.get("prompt")]
    return typist.session, status, calls


# -- report --------------------------------------------------------------------------------


def summarize(session: Session, status: dict[str, Any], calls: list[Any]) -> dict[str, float]:
    generated = sum(r.chunks_sent for r in calls)
    used = sum(len(TOKEN.findall(s)) for s in session.shown)
    comp = status["completions"]
    served = status["cache"]["hits"] + status["cache"]["typedThrough"]
    return {
        "keystrokes": session.keystrokes,
        "accepted suggestions": session.accepted,
        "accepted chars": session.accepted_chars,
        "completion requests": comp["count"],
        "model calls": len(calls),
        "model calls per typed char": len(calls) / max(1, session.keystrokes),
        "cache + typing-through hit rate": served / max(1, comp["count"]),
        "prompt tokens evaluated per call": statistics.mean(
            [r.prompt_eval_count or 0 for r in calls]
        ) if calls else 0.0,
        "prompt tokens sent per call": statistics.mean(
            [r.prompt_tokens or 0 for r in calls]
        ) if calls else 0.0,
        "tokens generated": generated,
        "tokens generated, thrown away": max(0, generated - used),
        "suggestions shown": session.suggestions,
        "keystroke to suggestion p50 ms": pct(session.latencies_ms, 0.5),
        "peak RSS MB": session.peak_rss / 1e6,
    }  # fmt: skip


def print_table(results: dict[str, dict[str, float]]) -> None:
    """One column per configuration, then how many times naive's value each one is."""
    names = list(results)
    head = "".join(f"{n:>16}" for n in names) + "".join(f"{'naive/' + n:>24}" for n in names[:-1])
    print(f"\n{'metric':36}{head}")
    for key in results[names[0]]:
        values = [results[n][key] for n in names]
        ratios = "".join(f"{(values[-1] / v if v else float('nan')):23.1f}x" for v in values[:-1])
        print(f"{key:36}" + "".join(f"{v:16.3f}" for v in values) + ratios)


async def main_async(args: argparse.Namespace) -> None:
    files = {p.name: p.read_text() for p in sorted(CORPUS.iterdir()) if p.suffix in LANGUAGES}
    with OllamaDouble() as double:
        double.latency.first_token_s = 0.05 / args.speed
        double.latency.per_token_s = 0.025 / args.speed
        double.latency.prompt_token_s = 0.0008 / args.speed
        double.set_responder(make_responder(files))
        results = {}
        for name, options in CONFIGS.items():
            print(f"typing session: {name} ...", flush=True)
            results[name] = summarize(*await run_session(double, options, files, args))
        print_table(results)
    print("\nlatency (python -m benchmarks.latency):")
    latency.report(await latency.measure(60, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keystrokes", type=int, default=600)
    parser.add_argument("--speed", type=float, default=1.0, help="time compression factor")
    parser.add_argument("--seed", type=int, default=7)
    sys.setswitchinterval(1e-4)  # the double shares this process; hand the GIL over quickly
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
