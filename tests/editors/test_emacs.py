"""editor-configs/emacs/ollama-lsp.el in a real Emacs (Debian's emacs-nox 28.2 + elpa-eglot 1.9),
in batch mode, against the real ``ollama-lsp`` and the Ollama double.

Eglot has no inline completion, so suggestions come through completion-at-point. Without
Emacs and Eglot the test skips, unless ``OLLAMA_LSP_REQUIRE_EDITORS=1`` (CI), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "editor-configs" / "emacs" / "ollama-lsp.el"
SCENARIO = Path(__file__).with_name("emacs_scenario.el")
REQUIRED = os.environ.get("OLLAMA_LSP_REQUIRE_EDITORS") == "1"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"


def _why_not() -> str | None:
    emacs = shutil.which("emacs")
    if emacs is None:
        return "no emacs on PATH (apt-get install emacs-nox elpa-eglot)"
    probe = subprocess.run(
        [emacs, "--batch", "--eval", "(require 'eglot)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"Emacs has no Eglot (apt-get install elpa-eglot): {probe.stderr[-300:]}"
    return None


WHY_NOT = _why_not()
pytestmark = pytest.mark.skipif(
    WHY_NOT is not None and not REQUIRED, reason=f"Emacs + Eglot: {WHY_NOT}"
)


def run_emacs(
    tmp_path: Path,
    host: str,
    *,
    scenario: Path = SCENARIO,
    doc: str = DOC,
    file: str = "calc.py",
    **env: str,
) -> dict:
    """Run ``scenario`` in ``emacs --batch`` on ``file`` holding ``doc``; what it recorded.

    ``env`` reaches the scenario as ``OLLAMA_TEST_<NAME>`` variables."""
    if WHY_NOT is not None:
        pytest.fail(f"OLLAMA_LSP_REQUIRE_EDITORS=1 but the Emacs test cannot run: {WHY_NOT}")
    source = tmp_path / file
    source.write_text(doc)
    out = tmp_path / "outcome.json"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),  # no user init, no ~/.emacs.d state
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "OLLAMA_HOST": host,
        "OLLAMA_LSP_EL": str(CONFIG),
        "OLLAMA_TEST_FILE": str(source),
        "OLLAMA_TEST_OUT": str(out),
        **{f"OLLAMA_TEST_{name.upper()}": value for name, value in env.items()},
    }
    done = subprocess.run(
        ["emacs", "--batch", "-l", str(scenario)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert out.exists(), f"Emacs wrote no outcome (exit {done.returncode}):\n{done.stderr[-3000:]}"
    outcome = json.loads(out.read_text())
    assert outcome.get("ok"), (
        f"scenario failed: {outcome.get('error')}\nevents:\n{outcome.get('events')}\n"
        f"stderr:\n{done.stderr[-3000:]}"
    )
    return outcome


def test_completion_at_point_select_model_and_status(tmp_path: Path, ollama_double) -> None:
    ollama_double.script("return a + b")
    outcome = run_emacs(tmp_path, ollama_double.host)
    assert outcome["server"] == "ollama-lsp"
    assert outcome["line2"] == "    return a + b"
    calls = [r for r in ollama_double.requests_to("/api/generate") if r.body.get("prompt")]
    assert calls[0].body["model"] == "codellama:7b-code"  # the model the config sends
    assert outcome["select"] == "ollama-lsp: completion model is qwen2.5-coder:1.5b-base"
    assert outcome["status"] == (
        f"ollama-lsp: http://{ollama_double.host} reachable, model qwen2.5-coder:1.5b-base, "
        "chat tinyllama:1.1b-chat-v1-q4_0"
    )
    assert outcome["line3"] == "return a + b"
    calls = [r for r in ollama_double.requests_to("/api/generate") if r.body.get("prompt")]
    assert calls[-1].body["model"] == "qwen2.5-coder:1.5b-base"
