"""Which sessions a run is made of, and running them one by one on a fresh engine each.

A session is one client typing the corpus once: a model, an engine, a client (``ours``: the
plugin with default settings; ``naive``: the same plugin, the server with no debounce, no
cache, no prefill and no speculation; ``no-bg``: ours without prefill and speculation, to
tell what the background work adds; ``llama.vim``: on llama-server only), a seed (the
typist's rhythm) and a run (real time with a reaction time, or unhurried). Each session gets
a freshly started engine, so no session inherits another's prompt cache.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import analysis, engines, kept, neovim
from .corpus import Corpus

log = logging.getLogger("editor_loop")

NAIVE = {
    "completion": {"debounceMs": 0, "prefill": False, "speculate": False},
    "cache": {"maxEntries": 0},
}
#: Ours without the background work (prefill, speculation): what that work adds.
NO_BACKGROUND = {"completion": {"prefill": False, "speculate": False}}
DEFAULT_CLIENTS = ("ours", "naive", "llama.vim")
CLIENTS = (*DEFAULT_CLIENTS, "no-bg")
SETTINGS = {"naive": NAIVE, "no-bg": NO_BACKGROUND}


@dataclass(frozen=True)
class Plan:
    models: list[str]
    engines: list[str]
    clients: list[str]
    reactions: list[int]
    seeds: int
    keys: int | None
    unhurried: bool
    llama_vim: Path | None
    unhurried_keys: int | None = None
    """Keystrokes of an unhurried session (default: ``keys``)."""
    first_seed: int = 1
    """Seeds ``first_seed`` .. ``first_seed + seeds - 1`` (to add seeds to a kept run)."""

    def runs(self, client: str) -> list[tuple[str, int]]:
        """(label, reaction ms) of each run of ``client``; naive has no unhurried run (its
        prompts are ours without the reuse, so unhurried it would repeat ours; no-bg's
        windows differ from ours, since no prefill widens them)."""
        found = [(f"real time, Tab after {r} ms", r) for r in self.reactions]
        if self.unhurried and client != "naive":
            found.append(("unhurried", 0))
        return found


def session(
    corpus: Corpus, engine: engines.Engine, client: str, run: tuple[str, int], seed: int,
    keys: int | None, llama_vim: Path | None,
) -> neovim.Session:  # fmt: skip
    label, reaction = run
    mode = "unhurried" if label == "unhurried" else "realtime"
    s = neovim.Session(client="ours", mode=mode, reaction_ms=reaction, seed=seed, keys=keys)
    if client == "llama.vim":
        assert engine.infill is not None and llama_vim is not None
        s.client, s.llama_vim_dir = "llamavim", llama_vim
        s.llama_config = neovim.llama_vim_config(engine.infill)
    else:
        settings = SETTINGS.get(client, {})
        s.setup = neovim.ours_setup(engine.host, engine.model, api=engine.api, settings=settings)
    return s


def clients_for(plan: Plan, engine: str) -> list[str]:
    return [
        c
        for c in plan.clients
        if c != "llama.vim" or (engine == "llama-server" and plan.llama_vim is not None)
    ]


def run_plan(
    plan: Plan, corpus: Corpus, keep: Path | None = None, *, strict: bool = False
) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Every session of ``plan``; per row label (model, engine, client, run) the per-seed
    metrics. Engines or models missing here are skipped with a message; so is a session that
    fails (its error logged), unless ``strict``."""
    rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for model in plan.models:
        for engine_name in plan.engines:
            reason = engines.available(engine_name, model)
            if reason:
                log.warning("skipping %s on %s: %s", model, engine_name, reason)
                continue
            for seed in range(plan.first_seed, plan.first_seed + plan.seeds):
                for client in clients_for(plan, engine_name):
                    for run in plan.runs(client):
                        label = (model, engine_name, client, run[0])
                        log.info("%s, seed %d ...", " / ".join(label), seed)
                        try:
                            metrics = one(corpus, plan, engine_name, model, client, run, seed, keep)
                        except Exception:
                            if strict:
                                raise
                            log.exception("%s, seed %d failed", " / ".join(label), seed)
                            continue
                        rows.setdefault(label, []).append(metrics)
    return list(rows.items())


def one(
    corpus: Corpus, plan: Plan, engine_name: str, model: str, client: str,
    run: tuple[str, int], seed: int, keep: Path | None,
) -> dict[str, Any]:  # fmt: skip
    with engines.start(engine_name, model) as engine:
        keys = plan.keys
        if run[0] == "unhurried" and plan.unhurried_keys:
            keys = plan.unhurried_keys
        s = session(corpus, engine, client, run, seed, keys, plan.llama_vim)
        outcome = neovim.run(corpus, s, idle=engine.idle, metrics=engine.metrics_text)
        requests = engine.requests()
    metrics = analysis.analyse(corpus, outcome.events, requests, outcome.busy)
    if keep is not None:
        label = (model, engine_name, client, run[0])
        kept.save(keep, label, seed, run[1], metrics, outcome, requests)
    log.info("  %s", {k: v for k, v in metrics.items() if k != "wrong examples"})
    return metrics
