"""Typing while completing in a real Emacs 28.2 + Eglot 1.9 (batch mode) against the real
``ollama-lsp`` and the double (issue 19).

Eglot has no ghost text: a suggestion is a completion-at-point candidate. The user is at
``    r`` in ``def circumference(radius):`` and the model's line is
``return 2 * math.pi * radius``. "Accept after typing a matching key" is then: type ``e`` and
complete — either freshly (M-TAB, or company-mode, whose capf backend asks again on every
key) or from a popup that keeps the candidates it fetched at ``    r`` (corfu,
``completion-in-region-mode``), whose item was answered for the old position. Either way the
line must become ``    return 2 * math.pi * radius``, never ``    reeturn…``/``…radiuse``. A
contradicting key (``x``; ``t``, which fuzzy matching would still find in ``return``) must leave
no candidate from the old answer to insert.

The scenario is ``emacs_typing.el``; the cases are described there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_emacs import REQUIRED, WHY_NOT, run_emacs

pytestmark = pytest.mark.skipif(
    WHY_NOT is not None and not REQUIRED, reason=f"Emacs + Eglot: {WHY_NOT}"
)

SCENARIO = Path(__file__).with_name("emacs_typing.el")
DOC = "import math\n\n\ndef circumference(radius):\n    r\n\n\nprint(circumference(1.0))\n"
ANSWER = "return 2 * math.pi * radius"
LINE = "    " + ANSWER


def run(tmp_path: Path, double, case: str, key: str = "") -> dict:
    double.script(ANSWER)
    return run_emacs(
        tmp_path, double.host, scenario=SCENARIO, doc=DOC, file="circle.py", case=case, key=key
    )


def test_completing_inside_a_word_completes_the_word(tmp_path: Path, ollama_double) -> None:
    outcome = run(tmp_path, ollama_double, "complete")
    assert outcome["line"] == LINE  # not "    eeturn…": the typed "r" is the suggestion's own
    assert outcome["column"] == len(LINE)
    assert outcome["lines"] == DOC.replace("    r\n", LINE + "\n").split("\n")


def test_completing_after_a_matching_key_completes_the_line(tmp_path: Path, ollama_double) -> None:
    outcome = run(tmp_path, ollama_double, "key-complete", "e")
    assert outcome["typed"] == "    re"
    assert outcome["line"] == LINE
    assert outcome["column"] == len(LINE)


def test_accepting_an_answer_from_before_a_matching_key_completes_the_line(
    tmp_path: Path, ollama_double
) -> None:
    outcome = run(tmp_path, ollama_double, "session", "e")
    assert outcome["offered"] == [ANSWER]
    assert outcome["offered_after_key"] == [ANSWER]
    assert outcome["line"] == LINE  # not "    return 2 * math.pi * radiuse"
    assert outcome["column"] == len(LINE)


@pytest.mark.parametrize("key", ["x", "t"])
def test_a_contradicting_key_leaves_the_old_answer_unoffered(
    tmp_path: Path, ollama_double, key: str
) -> None:
    outcome = run(tmp_path, ollama_double, "session", key)
    assert outcome["offered"] == [ANSWER]
    assert outcome["offered_after_key"] == []
    assert outcome["line"] == "    r" + key


@pytest.mark.parametrize("key", ["x", "t"])
def test_completing_after_a_contradicting_key_inserts_nothing(
    tmp_path: Path, ollama_double, key: str
) -> None:
    outcome = run(tmp_path, ollama_double, "key-complete", key)
    assert outcome["line"] == "    r" + key
