"""Cross-file recall: does a suggestion know what another open file defines?

    python -m benchmarks.cross_file [--speed 3] [--rounds 2] [--seed 7] [--models a,b] [--offline]

A small project (``benchmarks/corpus_xfile``): ``models.py`` and ``pricing.py`` define
dataclasses and functions with keyword-only parameters; ``service.py`` and ``report.py`` call
them. The two defining files are open, untouched; a seeded typist (the one of
``benchmarks.typing_replay``) writes the two calling files at human speed and accepts a
suggestion when it matches what it was about to type.

The double's simulated model knows only what is in its prompt: it continues the file with
the true text, except that a name defined in another file (a function, class or constant of
``models.py``/``pricing.py``) comes out wrong unless the prompt holds that name's
definition (``def name(``, ``class name``, ``NAME =``). No other errors, no randomness: the
difference between the runs is the context.

The same session runs with workspace context off (``context.enabled: false``) and on, per
model family (CodeLlama: comment blocks; Qwen2.5-Coder: repository-level tokens), side by
side in one run: after a short warm-up session that is thrown away, in rounds that swap the
order (off/on, on/off...), because sessions that are otherwise equal differ by timing. It reports accepted characters and suggestions shown, and the recall of
the prompts themselves: of the model calls whose right answer needed another file's name,
the share whose prompt held its definition.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.harness import stop_server
from benchmarks.typing_replay import Session, Typist
from tests.ollama_double import OllamaDouble

CORPUS = Path(__file__).parent / "corpus_xfile"
ROOT_URI = "file:///bench-xfile"
OPEN = ("models.py", "pricing.py")
TYPED = ("service.py", "report.py")
CONFIGS: dict[str, dict[str, Any]] = {
    "context off": {"context": {"enabled": False}},
    "context on": {},
}
MODELS = ("codellama:7b-code", "qwen2.5-coder:1.5b-base")

_FIM_SUFFIX = ("<SUF>", "<|fim_suffix|>", "<fim_suffix>", "<｜fim▁hole｜>")
_FIM_PREFIX = ("<PRE> ", "<|fim_prefix|>", "<fim_prefix>", "<｜fim▁begin｜>")
_WORD = re.compile(r"\w+")
_DEFINED = re.compile(r"^(?:def|class)\s+(\w+)|^([A-Z][A-Z0-9_]+)\s*=", re.M)


# -- the simulated model -------------------------------------------------------------------


@dataclass
class Recall:
    """Model calls whose right answer needed a name defined in another file."""

    needed: int = 0
    known: int = 0
    names: dict[str, int] = field(default_factory=dict)


def foreign_names(files: dict[str, str]) -> set[str]:
    """Top-level functions, classes and constants of the files the typist does not write."""
    return {a or b for text in files.values() for a, b in _DEFINED.findall(text)}


def known(name: str, prompt: str) -> bool:
    """Whether ``prompt`` shows ``name``'s definition, not just a use of it."""
    return bool(re.search(rf"(?:def|class)\s+{name}\b|^{name}\s*=", prompt, re.M))


def split_prompt(prompt: str) -> str | None:
    """The text before the cursor as the prompt gives it (context block included)."""
    for marker in _FIM_SUFFIX:
        if marker in prompt:
            before = prompt.split(marker, 1)[0]
            for opener in _FIM_PREFIX:
                if opener in before:
                    before = before.rsplit(opener, 1)[1]
                    break
            return before.removesuffix(" ") if marker == "<SUF>" else before
    return None


def cursor_in(truth: str, before: str) -> int | None:
    """Where in ``truth`` the prompt's text before the cursor ends."""
    tail = before[-160:]
    if len(tail) == 160:
        at = truth.rfind(tail)
        if at >= 0:
            return at + len(tail)
    for n in range(min(len(before), len(truth)), -1, -1):  # near the top of the file
        if before.endswith(truth[:n]):
            return n
    return None


def right_answer(truth: str, pos: int, foreign: set[str]) -> tuple[str, list[re.Match[str]]]:
    """The true continuation at ``pos`` (three lines at most) and the other files' names
    in it (a name the cursor is in the middle of counts)."""
    answer = "\n".join(truth[pos:].split("\n")[:3])
    end = pos + len(answer)
    needed = [
        m
        for m in _WORD.finditer(truth)
        if m.group(0) in foreign and m.end() > pos and m.start() < end
    ]
    return answer, needed


def make_responder(
    typing: list[str], truths: dict[str, str], foreign: set[str], recall: Recall
) -> Callable[[dict[str, Any]], str | None]:
    def respond(body: dict[str, Any]) -> str | None:
        prompt = body.get("prompt") or ""
        before = split_prompt(prompt)
        if before is None or not typing:
            return None
        truth = truths[typing[0]]
        pos = cursor_in(truth, before)
        if pos is None:
            return "pass"
        answer, needed = right_answer(truth, pos, foreign)
        end = pos + len(answer)
        if (body.get("options") or {}).get("num_predict") == 0 or not needed:
            return answer or "\n"
        recall.needed += 1
        missing = [m for m in needed if not known(m.group(0), prompt)]
        if not missing:
            recall.known += 1
            return answer or "\n"
        for m in missing:
            recall.names[m.group(0)] = recall.names.get(m.group(0), 0) + 1
        wrong = list(answer)
        for m in reversed(missing):
            lo, hi = max(m.start(), pos) - pos, min(m.end(), end) - pos
            wrong[lo:hi] = list(answer[lo:hi][::-1] + "_x")
        return "".join(wrong)

    return respond


# -- the context sources alone, without a server -------------------------------------------


def offline_recall(files: dict[str, str], foreign: set[str], family: str) -> dict[str, float]:
    """Type the calling files into a ``WorkspaceContext`` and, at every line end and every
    fourth character (where a user might pause), ask it for a block: how often the block
    holds the definitions the right answer needs, and how big and how stable it is."""
    from ollama_lsp.context import ContextSettings, WorkspaceContext, render_block

    context = WorkspaceContext(ContextSettings(), root="/bench-xfile")
    for name in OPEN:
        context.opened(f"{ROOT_URI}/{name}", f"/bench-xfile/{name}", "python", files[name])
    needed = held = asks = changes = size = 0
    for name in TYPED:
        uri, truth = f"{ROOT_URI}/{name}", files[name]
        context.opened(uri, f"/bench-xfile/{name}", "python", "")
        previous = None
        for pos in range(1, len(truth) + 1):
            context.changed(uri, truth[:pos], [truth.count("\n", 0, pos)])
            if pos % 4 and truth[pos - 1] != "\n":
                continue
            tail = "\n".join(truth[:pos].split("\n")[-30:])
            snippets = context.select(uri, tail, budget_chars=ContextSettings().max_chars)
            block = render_block(snippets, family, language="python", current_path=name)
            asks += 1
            size += len(block)
            changes += block != previous
            previous = block
            _, names = right_answer(truth, pos, foreign)
            if names:
                needed += 1
                held += all(known(m.group(0), block) for m in names)
        context.closed(uri)
    return {
        "pauses": asks,
        "pauses needing another file": needed,
        "... whose block held it": held,
        "recall": held / needed if needed else float("nan"),
        "block chars, mean": size / asks if asks else 0.0,
        "block changed between pauses": changes / asks if asks else 0.0,
    }


# -- running the sessions ------------------------------------------------------------------


async def start_server(host: str, options: dict[str, Any]) -> LanguageClient:
    """``ollama-lsp`` on stdio, initialized with a workspace folder (paths are relative)."""
    client = LanguageClient("benchmark", "1")
    await client.start_io(
        sys.executable, "-m", "ollama_lsp", env={**os.environ, "OLLAMA_HOST": host}
    )
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()
        ),
        general=types.GeneralClientCapabilities(position_encodings=["utf-16"]),
    )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=caps,
            root_uri=ROOT_URI,
            workspace_folders=[types.WorkspaceFolder(uri=ROOT_URI, name="bench-xfile")],
            initialization_options={"ollama": options},
        )
    )
    client.initialized(types.InitializedParams())
    return client


async def run_session(
    double: OllamaDouble,
    options: dict[str, Any],
    files: dict[str, str],
    typing: list[str],
    args: argparse.Namespace,
    budget: int = 10**6,
) -> Session:
    double.reset_records()
    client = await start_server(double.host, options)
    for name in OPEN:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=f"{ROOT_URI}/{name}", language_id="python", version=1, text=files[name]
                )
            )
        )
    typist = Typist(client, random.Random(args.seed), args.speed)
    for name in TYPED:
        typing[:] = [name]
        await typist.type_file(f"{ROOT_URI}/{name}", files[name], "python", budget)
    typing.clear()
    await stop_server(client)
    return typist.session


COUNTS = ("keystrokes", "accepted suggestions", "accepted chars", "suggestions shown",
          "model calls", "calls needing another file", "... whose prompt held it",
          "prompt tokens sent", "prompt tokens evaluated")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    files = {p.name: p.read_text() for p in sorted(CORPUS.glob("*.py"))}
    foreign = foreign_names({n: files[n] for n in OPEN})
    typing: list[str] = []
    print("context sources alone (no server), codellama layout:")
    for key, value in offline_recall(files, foreign, "codellama").items():
        print(f"  {key:34}{value:10.3f}")
    if args.offline:
        return
    totals: dict[str, dict[str, float]] = {}
    with OllamaDouble() as double:
        double.latency.first_token_s = 0.05 / args.speed
        double.latency.per_token_s = 0.025 / args.speed
        double.latency.prompt_token_s = 0.0008 / args.speed
        for model in args.models.split(","):
            # A short session first, thrown away: the first server of a run starts cold.
            double.set_responder(make_responder(typing, files, foreign, Recall()))
            await run_session(double, {"model": model}, files, typing, args, budget=60)
            for round_ in range(args.rounds):
                order = list(CONFIGS.items())
                for config, options in order if round_ % 2 == 0 else order[::-1]:
                    label = f"{model.split(':')[0]}, {config}"
                    print(f"typing session: {label} (round {round_ + 1}) ...", flush=True)
                    recall = Recall()
                    double.set_responder(make_responder(typing, files, foreign, recall))
                    session = await run_session(
                        double, {"model": model, **options}, files, typing, args
                    )
                    calls = [
                        r
                        for r in double.requests_to("/api/generate")
                        if r.body and r.body.get("prompt")
                    ]
                    counts = totals.setdefault(label, dict.fromkeys(COUNTS, 0.0))
                    for key, value in tally(session, recall, calls).items():
                        counts[key] += value
                    if recall.names:
                        print("  names it had to guess:", dict(sorted(recall.names.items())))
    print_table({label: report(counts, args.rounds) for label, counts in totals.items()})


def tally(session: Session, recall: Recall, calls: list[Any]) -> dict[str, float]:
    return {
        "keystrokes": session.keystrokes,
        "accepted suggestions": session.accepted,
        "accepted chars": session.accepted_chars,
        "suggestions shown": session.suggestions,
        "model calls": len(calls),
        "calls needing another file": recall.needed,
        "... whose prompt held it": recall.known,
        "prompt tokens sent": sum(r.prompt_tokens or 0 for r in calls),
        "prompt tokens evaluated": sum(r.prompt_eval_count or 0 for r in calls),
    }


def report(counts: dict[str, float], rounds: int) -> dict[str, float]:
    """Per-session means of the counts, and the ratios over all rounds."""
    calls = counts["model calls"] or 1
    needed = counts["calls needing another file"]
    means = {key: counts[key] / rounds for key in COUNTS[:7]}
    return {
        **means,
        "cross-file recall": counts["... whose prompt held it"] / needed
        if needed
        else float("nan"),
        "prompt tokens sent per call": counts["prompt tokens sent"] / calls,
        "prompt tokens evaluated per call": counts["prompt tokens evaluated"] / calls,
    }


def print_table(results: dict[str, dict[str, float]]) -> None:
    """One column per configuration (means over the rounds); per model, on over off."""
    names = list(results)
    print(f"\n{'metric (mean per session)':34}" + "".join(f"{n:>30}" for n in names))
    for key in results[names[0]]:
        print(f"{key:34}" + "".join(f"{results[n][key]:30.3f}" for n in names))
    for off, on in zip(names[::2], names[1::2], strict=True):
        base, better = results[off]["accepted chars"], results[on]["accepted chars"]
        ratio = better / base if base else float("nan")
        print(f"accepted chars, {on} / off: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=3.0, help="time compression factor")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--offline", action="store_true", help="the context sources only")
    parser.add_argument("--rounds", type=int, default=2, help="off/on, then on/off, ...")
    sys.setswitchinterval(1e-4)  # the double shares this process; hand the GIL over quickly
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
