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
    pytest.mark.timeout(480),
]

DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
ANSWER = "return a + b"
# Issue 19: typing while a ghost shows (driver.js typingSteps). VS Code's word-based suggest
# widget is off in the profile (codeserver.user_settings): when open it takes Tab by design.
CIRCLE_DOC = (
    "import math\n\n\ndef circumference(size):\n    \n\n\n"
    "def area(size):\n    \n\n\nprint(circumference(1.0))\n"
)
CIRCLE_ANSWER = "return 2 * math.pi * size"
TAB_DELAYS_MS = [0, 50, 100, 250]
CIRCLE = {
    "file": "circle.py",
    "answer": CIRCLE_ANSWER,
    "row": 5,  # "    " in circumference()
    "lateRow": 9,  # "    " in area(): a place the server has no answer cached for
    "indent": "    ",
    "first": "r",
    "ghost": CIRCLE_ANSWER[1:],  # the server's answer after "    r"
    "matching": "e",
    "contradicting": "x",
    "tabDelaysMs": TAB_DELAYS_MS,
    "observeMs": 2500,  # > debounce (150 ms) + a request answered at once, on a busy machine
    "slowFirstTokenMs": 1500,
}
SCENARIO = {
    "file": "calc.py",
    "answer": ANSWER,
    "typed": "ret",
    "model": "codellama:7b-code",
    "select": "qwen2.5-coder:1.5b-base",
    "pull": "codellama:13b-code",
    "pullTickMs": 700,
    "missingServer": "/nonexistent/bin/ollama-lsp",
    "circle": CIRCLE,
}


@pytest.fixture(scope="module")
def vscode(tmp_path_factory: pytest.TempPathFactory) -> codeserver.Run:
    if WHY_NOT is not None:
        pytest.fail(f"{codeserver.REQUIRE_ENV}=1 but the VS Code test cannot run: {WHY_NOT}")
    workdir = tmp_path_factory.mktemp("vscode")
    workspace = workdir / "project"
    workspace.mkdir()
    (workspace / SCENARIO["file"]).write_text(DOC)
    (workspace / CIRCLE["file"]).write_text(CIRCLE_DOC)
    run = codeserver.run_driver(workdir, {**SCENARIO, "workspace": str(workspace)}, timeout=360)
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


@pytest.mark.parametrize("delay_ms", TAB_DELAYS_MS)
def test_tab_after_a_matching_key_completes_the_line(vscode: codeserver.Run, delay_ms: int) -> None:
    """Type the ghost's first character, then Tab a reaction time later: the typed "e" is the
    suggestion's own, neither doubled nor left over ("…sizee")."""
    trials = {t["delay"]: t for t in vscode.step("tab_after_matching_key")["trials"]}
    trial = trials[delay_ms]
    assert trial["ghost"] == CIRCLE["ghost"]
    assert not trial["widget"], "VS Code's suggest widget was open: Tab went to it"
    assert trial["line"] == "    " + CIRCLE_ANSWER
    row = CIRCLE["row"] - 1
    expected = CIRCLE_DOC.split("\n")
    assert trial["lines"] == [*expected[:row], "    " + CIRCLE_ANSWER, *expected[row + 1 :]]


def test_a_contradicting_key_leaves_no_ghost_of_the_old_suggestion(
    vscode: codeserver.Run,
) -> None:
    step = vscode.step("contradicting_key")
    assert step["ghost"] == CIRCLE["ghost"]
    typed = "    " + CIRCLE["first"] + CIRCLE["contradicting"]
    assert step["line"] == typed
    stale = [s for s in step["samples"] if s["text"] and s["line"] == typed]
    assert stale == [], step["samples"]  # not even for a frame (e.g. "turn 2 * …")
    assert step["ghostAfter"] == ""


def test_a_late_answer_to_an_outdated_request_is_not_shown(vscode: codeserver.Run) -> None:
    """The model answers "    r" 1.5 s late, after the user typed "x": nothing fits "    rx"."""
    step = vscode.step("late_answer")
    assert step["line"] == "    " + CIRCLE["first"] + CIRCLE["contradicting"]
    shown = [s for s in step["samples"] if s["t"] >= step["typedAt"] and s["text"]]
    assert shown == [], step["samples"]


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
