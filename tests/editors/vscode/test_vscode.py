"""The VS Code extension in real VS Code (code-server 4.100.3 = VS Code 1.100.3 in Chromium).

One scenario runs once for the module (code-server takes ~15 s to come up) inside a network
namespace with only loopback; each test checks one thing a user would see, from what the
driver recorded. What it needs is installed by ``.ci/run`` (``tools/install.sh``); without it
the tests skip, unless ``OLLAMA_LSP_REQUIRE_EDITORS=1`` (set in CI), where they fail.

Set ``OLLAMA_LSP_SCREENSHOTS_DIR`` to keep the screenshots (the README's come from here).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from . import codeserver

WHY_NOT = codeserver.missing()
REQUIRED = os.environ.get(codeserver.REQUIRE_ENV) == "1"
pytestmark = [
    pytest.mark.skipif(WHY_NOT is not None and not REQUIRED, reason=f"real VS Code: {WHY_NOT}"),
    pytest.mark.timeout(400),
]

DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
ANSWER = "return a + b"
SCENARIO = {
    "file": "calc.py",
    "answer": ANSWER,
    "typed": "ret",
    "model": "codellama:7b-code",
    "select": "qwen2.5-coder:1.5b-base",
    "pull": "codellama:13b-code",
    "pullTickMs": 700,
    "missingServer": "/nonexistent/bin/ollama-lsp",
}


@pytest.fixture(scope="module")
def vscode(tmp_path_factory: pytest.TempPathFactory) -> codeserver.Run:
    if WHY_NOT is not None:
        pytest.fail(f"{codeserver.REQUIRE_ENV}=1 but the VS Code test cannot run: {WHY_NOT}")
    workdir = tmp_path_factory.mktemp("vscode")
    workspace = workdir / "project"
    workspace.mkdir()
    (workspace / SCENARIO["file"]).write_text(DOC)
    run = codeserver.run_driver(workdir, {**SCENARIO, "workspace": str(workspace)}, timeout=300)
    keep = os.environ.get("OLLAMA_LSP_SCREENSHOTS_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in (workdir / "shots").glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)
    assert "fatal" not in run.results, (
        f"the scenario could not run: {run.results['fatal']}\n{run.tail()}"
    )
    return run


def test_ghost_text_appears_on_trigger(vscode: codeserver.Run) -> None:
    assert vscode.step("ghost_on_trigger")["ghost"].strip() == ANSWER
    assert (vscode.workdir / "shots" / "vscode-ghost-text.png").stat().st_size > 3_000


def test_ghost_text_follows_typing(vscode: codeserver.Run) -> None:
    assert vscode.step("ghost_while_typing")["ghost"] == ANSWER[len(SCENARIO["typed"]) :]


def test_tab_accepts_the_suggestion_into_the_file(vscode: codeserver.Run) -> None:
    assert vscode.step("tab_accepts")["line"] == "    " + ANSWER


def test_ghost_text_appears_while_typing_without_a_trigger(vscode: codeserver.Run) -> None:
    assert vscode.step("ghost_automatic")["ghost"].strip() == ANSWER


def test_select_model_quick_pick_status_bar_and_saved_setting(vscode: codeserver.Run) -> None:
    step = vscode.step("select_model")
    rows = " | ".join(step["rows"])
    for name in ("codellama:7b-code", "qwen2.5-coder:1.5b-base"):
        assert name in rows
    assert "active" in rows  # the current model is marked
    assert any(SCENARIO["select"] in item for item in step["statusBar"])
    assert step["settings"]["ollama.model"] == SCENARIO["select"]


def test_pull_shows_progress_and_cancel_stops_it(vscode: codeserver.Run) -> None:
    step = vscode.step("pull_and_cancel")
    assert any(f"Pulling {SCENARIO['pull']}" in item for item in step["statusBar"])
    # The server's byte counts reach the notification and advance.
    assert any(re.search(r": pulling [1-9][\d.]* [KMG]?B / 7.4 GB", t) for t in step["progress"])
    assert step["outcome"] == f"Pull of {SCENARIO['pull']} cancelled."


def test_show_status_reports_the_server_state(vscode: codeserver.Run) -> None:
    text = vscode.step("show_status")["text"]
    assert "Ollama: reachable at http://127.0.0.1:11434" in text
    assert f"Completion model: {SCENARIO['select']}" in text
    assert re.search(
        r"Completions: \d+ requests, \d+ model calls, median \S+ ms, [1-9]\d* accepted", text
    ), text


def test_ollama_down_shows_one_clear_message(vscode: codeserver.Run) -> None:
    toasts = vscode.step("ollama_down")["toasts"]
    down = [t for t in toasts if "not reachable" in t]
    assert len(down) == 1, toasts
    assert "ollama serve" in down[0]
    assert len(toasts) == 1, toasts


def test_missing_server_shows_one_message_with_the_fix(vscode: codeserver.Run) -> None:
    step = vscode.step("server_missing")
    assert len(step["toasts"]) == 1, step["toasts"]
    assert SCENARIO["missingServer"] in step["toasts"][0]
    assert "installed" in step["toasts"][0]


def test_server_log_lines_keep_their_level_in_the_output(vscode: codeserver.Run) -> None:
    logs = list((vscode.workdir / "user-data" / "logs").rglob("*Ollama LSP.log"))
    assert logs, "no 'Ollama LSP' output channel log"
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    assert re.search(r"\[info\] ollama-lsp \S+ using Ollama", text), text[-3000:]
    mislabelled = [line for line in text.splitlines() if "[error]" in line and " INFO " in line]
    assert mislabelled == [], mislabelled
