"""python -m benchmarks.editor_loop [--models M[,M]] [--engines double,llama-server]
[--clients ours,naive,llama.vim[,no-bg]] [--reaction 100,250] [--seeds 2] [--keys N] [--llama-vim DIR]
[--no-unhurried] [--keep DIR] [--json FILE] | --smoke | --reanalyse DIR

Prints the markdown table (see ``report.py`` for the columns, ``__init__`` for the method)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import analysis, corpus, kept, report, runs

SMOKE = runs.Plan(
    models=["qwen2.5-coder:0.5b"],
    engines=["double", "llama-server"],
    clients=["ours"],
    reactions=[100],
    seeds=1,
    keys=40,
    unhurried=True,
    llama_vim=None,
    unhurried_keys=12,
)
"""CI's short run: per engine 40 keys in real time and 12 unhurried (where a ghost is all but
certain to be drawn, whatever the machine's speed)."""


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse(argv: list[str] | None = None) -> tuple[runs.Plan, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.editor_loop", description=__doc__)
    p.add_argument("--models", type=_list, default=["qwen2.5-coder:0.5b"])
    p.add_argument("--engines", type=_list, default=["double", "llama-server"])
    p.add_argument("--clients", type=_list, default=list(runs.DEFAULT_CLIENTS))
    p.add_argument("--reaction", type=lambda s: [int(x) for x in _list(s)], default=[100, 250])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--first-seed", type=int, default=1, help="(to add seeds to a kept run)")
    p.add_argument("--keys", type=int, default=0, help="keystrokes per session (0: all, ~470)")
    p.add_argument("--llama-vim", type=Path, default=None, help="a checkout of llama.vim")
    p.add_argument("--no-unhurried", action="store_true")
    p.add_argument("--unhurried-keys", type=int, default=0, help="(0: as --keys)")
    p.add_argument("--smoke", action="store_true", help="short: 0.5B, both engines, ours")
    p.add_argument("--keep", type=Path, default=None, help="write each session's events here")
    p.add_argument("--json", type=Path, default=None, help="write the metrics as JSON here")
    p.add_argument(
        "--reanalyse", type=Path, default=None, help="the table from sessions kept in DIR"
    )
    args = p.parse_args(argv)
    if args.smoke:
        return SMOKE, args
    for engine in args.engines:
        if engine not in ("double", "llama-server"):
            p.error(f"unknown engine {engine!r}")
    for client in args.clients:
        if client not in runs.CLIENTS:
            p.error(f"unknown client {client!r}")
    llama_vim = args.llama_vim
    if llama_vim is not None and not (llama_vim / "autoload" / "llama.vim").is_file():
        logging.warning("no llama.vim at %s: its column is skipped", llama_vim)
        llama_vim = None
    plan = runs.Plan(
        models=args.models,
        engines=args.engines,
        clients=args.clients,
        reactions=args.reaction,
        seeds=args.seeds,
        keys=args.keys or None,
        unhurried=not args.no_unhurried,
        llama_vim=llama_vim,
        unhurried_keys=args.unhurried_keys or None,
        first_seed=args.first_seed,
    )
    return plan, args


def measure(plan: runs.Plan, keep: Path | None = None) -> list[tuple[tuple[str, ...], Any]]:
    """Run ``plan``; per row its per-seed metrics."""
    return runs.run_plan(plan, corpus.load(), keep)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # engines and Neovim stop too
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    plan, args = parse(argv)
    if args.reanalyse is not None:
        found = kept.reanalyse(args.reanalyse, corpus.load())
        plan = replace(plan, seeds=max((len(per_seed) for _, per_seed in found), default=1))
    else:
        found = measure(plan, args.keep)
    if not found:
        print("nothing ran: no engine or model is available here", file=sys.stderr)
        return 1
    rows = [(label, analysis.median_of(per_seed)) for label, per_seed in found]
    text = corpus.load().name
    print(f"\nEditor loop: {text}, {plan.keys or 'all'} keys, Neovim, 1 engine thread\n")
    print(report.table(rows, plan.seeds))
    if args.json is not None:
        args.json.write_text(json.dumps([[list(k), v] for k, v in found], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
