"""The compatibility wrapper keeps the engine's old calls working until it builds a Spot."""

from __future__ import annotations

from ollama_lsp.completion.postprocess import StreamCutter, finalize


def test_old_keyword_calls_reach_the_new_rules() -> None:
    cutter = StreamCutter(
        line_before_cursor="    total = a + b", suffix="\n", multiline=False, stop_tokens=("<EOT>",)
    )
    assert not cutter.feed("\n    print(")
    assert cutter.feed("total)\n")
    shown = finalize(
        cutter.text, line_before_cursor="    total = a + b", suffix="\n", multiline=False
    )
    assert shown == "\n    print(total)"


def test_the_line_after_the_cursor_comes_from_the_suffix() -> None:
    shown = finalize("a, b)", line_before_cursor="print(", suffix=")\nx = 1\n", multiline=False)
    assert shown == "a, b"


def test_only_the_stop_strings_passed_cut() -> None:
    cutter = StreamCutter(line_before_cursor="x = ", suffix="\n", multiline=False, stop_tokens=())
    cutter.feed("'</s>'<EOT>")
    assert cutter.text == "'</s>'<EOT>"
    cutter = StreamCutter(
        line_before_cursor="x = ", suffix="\n", multiline=False, stop_tokens=("<EOT>",)
    )
    assert cutter.feed("'</s>'<EOT>")
    assert cutter.text == "'</s>'"
