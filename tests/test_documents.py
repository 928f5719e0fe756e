"""Documents as lists of lines: incremental changes in every encoding, CRLF, and big files."""

from __future__ import annotations

import time

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from ollama_lsp.documents import LineDocument


def change(l1: int, c1: int, l2: int, c2: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(l1, c1), types.Position(l2, c2)), text=text
    )


def doc(text: str, encoding: str = "utf-16", cls: type[TextDocument] = LineDocument):
    return cls("file:///x.py", text, version=1, position_codec=PositionCodec(encoding))


EDITS = [
    ("insert mid-line", "def f():\n    pass\n", change(1, 4, 1, 4, "x = 1; ")),
    ("insert a newline", "a\nb\n", change(0, 1, 0, 1, "\n  ")),
    ("join two lines", "one\ntwo\nthree", change(0, 3, 1, 0, " ")),
    ("delete across lines", "a\nbbb\nccc\nd", change(1, 1, 2, 2, "")),
    ("replace with lines", "x\ny\nz", change(1, 0, 1, 1, "p\nq\nr")),
    ("append at the end", "end", change(0, 3, 0, 3, "\nmore\n")),
    ("after an emoji", "s = '😀' + t\n", change(0, 7, 0, 7, "😀")),
    ("crlf line end", "one\r\ntwo\r\n", change(0, 3, 0, 3, "!")),
    ("delete a crlf", "one\r\ntwo", change(0, 3, 1, 0, "")),
    ("past the end", "abc", change(5, 0, 5, 0, "!")),
    ("empty document", "", change(0, 0, 0, 0, "hello")),
]


@pytest.mark.parametrize(("name", "text", "edit"), EDITS, ids=[e[0] for e in EDITS])
def test_changes_match_pygls(name: str, text: str, edit) -> None:
    ours, theirs = doc(text), doc(text, cls=TextDocument)
    ours.apply_change(edit)
    theirs.apply_change(edit)
    assert ours.source == theirs.source
    assert list(ours.line_list) == ours.source.split("\n")


def test_utf8_positions_as_neovim_sends_them() -> None:
    document = doc("é = 1\n", "utf-8")
    document.apply_change(change(0, 2, 0, 2, "x"))  # é is 2 bytes
    assert document.source == "éx = 1\n"


def test_full_change_replaces_everything() -> None:
    document = doc("old\ntext")
    document.apply_change(types.TextDocumentContentChangeWholeDocument(text="new"))
    assert document.source == "new" and list(document.line_list) == ["new"]


def test_a_keystroke_in_a_big_file_does_not_touch_every_line() -> None:
    text = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(60_000))
    ours, theirs = doc(text), doc(text, cls=TextDocument)
    middle = text.count("\n") // 2

    def typing(document: TextDocument) -> float:
        start = time.perf_counter()
        for n in range(20):
            document.apply_change(change(middle, n, middle, n, "x"))
        return time.perf_counter() - start

    ours_s, theirs_s = typing(ours), typing(theirs)
    assert ours.source == theirs.source
    assert ours_s * 20 < theirs_s  # measured side by side: ~1000x on one machine
