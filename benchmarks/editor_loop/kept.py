"""Sessions kept on disk (``--keep DIR``), and the table made again from them
(``--reanalyse DIR``): when the analysis changes, the typing need not be run again.

One JSON file per session: its label and seed, the metrics as measured, the editor's events,
the engine's requests, the sampled engine activity (``busy``; files written before it was
kept fall back on the metrics as measured for busy time) and the tails of the logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import analysis
from .corpus import Corpus
from .engines import EngineRequest

#: The parts of a file name (``{model}-{engine}-{client}-{reaction or unhurried}-{seed}``)
#: of sessions kept before their label was stored.
_ENGINES = ("llama-server", "double")
_CLIENTS = ("llama.vim", "naive", "ours")


def save(
    keep: Path,
    label: tuple[str, ...],
    seed: int,
    reaction: int,
    metrics: dict[str, Any],
    outcome: Any,
    requests: list[EngineRequest],
) -> None:
    """Write one session under ``keep``."""
    keep.mkdir(parents=True, exist_ok=True)
    model, engine, client, _ = label
    name = f"{model}-{engine}-{client}-{reaction or 'unhurried'}-{seed}".replace(":", "_")
    dump = {
        "label": list(label),
        "seed": seed,
        "metrics": metrics,
        "events": outcome.events,
        "requests": [
            {**r.__dict__, "body": {k: v for k, v in r.body.items() if k != "input_extra"}}
            for r in requests
        ],
        "busy": outcome.busy,
        "stderr": outcome.stderr[-5000:],
        "lsp_log": outcome.lsp_log[-20000:],
    }
    (keep / f"{name}.json").write_text(json.dumps(dump, default=str))


def _label(path: Path) -> tuple[str, ...]:
    """A session's label from its file name (files kept before the label was stored)."""
    stem = path.stem.rsplit("-", 2)[0]  # drop reaction and seed
    reaction = path.stem.rsplit("-", 2)[1]
    engine = next(e for e in _ENGINES if f"-{e}-" in stem)
    model, rest = stem.split(f"-{engine}-", 1)
    client = next(c for c in _CLIENTS if rest == c)
    run = "unhurried" if reaction == "unhurried" else f"real time, Tab after {reaction} ms"
    return model.replace("_", ":", 1), engine, client, run


def reanalyse(keep: Path, corpus: Corpus) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Per row label the per-seed metrics of the sessions kept under ``keep``."""
    rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for path in sorted(keep.glob("*.json")):
        dump = json.loads(path.read_text())
        label = tuple(dump["label"]) if "label" in dump else _label(path)
        requests = [EngineRequest(**r) for r in dump["requests"]]
        busy = [tuple(b) for b in dump["busy"]] if "busy" in dump else None
        metrics = analysis.analyse(corpus, dump["events"], requests, busy)
        if busy is None:
            metrics["engine busy %"] = dump["metrics"]["engine busy %"]
        rows.setdefault(label, []).append(metrics)
    return list(rows.items())
