"""Documents as lists of lines: incremental changes in every encoding, CRLF, lone CR, big files,
and fuzzed edits against a reference model of the LSP spec."""

from __future__ import annotations

import random
import re
import time

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from ollama_lsp.documents import LineDocument, LineWorkspace
from ollama_lsp.positions import content


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


# -- against a reference model ----------------------------------------------------------------

LINE_END = re.compile(r"\r\n|\r|\n")
UNIT_BYTES = {"utf-8": lambda ch: len(ch.encode("utf-8")), "utf-16": lambda ch: 2 if ord(ch) > 0xFFFF else 1, "utf-32": lambda ch: 1}  # fmt: skip


class Reference:
    """The document as one string, positions resolved the slow, obvious way (LSP spec)."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text, self.encoding = text, encoding

    def lines(self) -> list[str]:
        return LINE_END.split(self.text)

    def offset(self, line: int, character: int) -> int:
        starts = [0] + [m.end() for m in LINE_END.finditer(self.text)]
        if line >= len(starts):
            return len(self.text)
        ends = [m.start() for m in LINE_END.finditer(self.text)] + [len(self.text)]
        at, seen = starts[line], 0
        while at < ends[line] and seen < character:  # a unit inside a character: past it
            seen += UNIT_BYTES[self.encoding](self.text[at])
            at += 1
        return at

    def apply(self, change: types.TextDocumentContentChangePartial) -> None:
        a = self.offset(change.range.start.line, change.range.start.character)
        b = self.offset(change.range.end.line, change.range.end.character)
        a, b = min(a, b), max(a, b)
        self.text = self.text[:a] + change.text + self.text[b:]


PIECES = ["a", "bc", " ", "é", "😀", "中", "\n", "\r\n", "\r", "\r\r", "\n\n", "x\ry", ""]


def random_edit(rng: random.Random, ref: Reference) -> types.TextDocumentContentChangePartial:
    lines = ref.lines()

    def position() -> tuple[int, int]:
        line = rng.randrange(len(lines) + (2 if rng.random() < 0.05 else 0))  # past the end
        width = len(lines[line].encode("utf-8")) if line < len(lines) else 3
        return line, rng.randrange(width + 3)  # past the line's end too

    (l1, c1), (l2, c2) = position(), position()
    if rng.random() < 0.6:
        l2, c2 = l1, c1  # plain typing
    text = "".join(rng.choice(PIECES) for _ in range(rng.choice((0, 1, 1, 2, 4))))
    return change(l1, c1, l2, c2, text)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_edits_match_the_reference_model(encoding: str, seed: int) -> None:
    """900 didChange steps per run (1 to 3 changes each): 8,100 steps over the nine runs."""
    rng = random.Random(seed)
    start = "def f():\r\n    return '😀'\n\nx = 1\ry = 2\n"
    ours, ref = doc(start, encoding), Reference(start, encoding)
    for step in range(900):
        edits = [random_edit(rng, ref) for _ in range(rng.choice((1, 1, 3)))]
        for edit in edits:  # one didChange applies its changes in order
            ref.apply(edit)
            ours.apply_change(edit)
        assert ours.source == ref.text, (step, edits)
        assert [content(line) for line in ours.line_list] == ref.lines(), (step, edits)
        if rng.random() < 0.02:
            ours.apply_change(types.TextDocumentContentChangeWholeDocument(text=ref.text))


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("a\rb", ["a", "b"]),
        ("a\r\nb\rc\nd", ["a", "b", "c", "d"]),
        ("a\r", ["a", ""]),
        ("\r\r\n\n", ["", "", "", ""]),
        ("mac\rfile\r", ["mac", "file", ""]),
    ],
)
def test_a_lone_carriage_return_ends_a_line(text: str, lines: list[str]) -> None:
    document = doc(text)
    assert [content(line) for line in document.line_list] == lines
    assert document.source == text


def test_a_lone_cr_meeting_a_newline_becomes_one_line_end() -> None:
    document = doc("a\rX\nb")
    document.apply_change(change(1, 0, 1, 1, ""))  # delete X: "a\r\nb"
    assert [content(line) for line in document.line_list] == ["a", "b"]
    document = doc("a\rb")
    document.apply_change(change(1, 0, 1, 0, "\n"))  # "a\r\nb"
    assert [content(line) for line in document.line_list] == ["a", "b"]


def test_typing_in_a_big_classic_mac_file_stays_fast() -> None:
    text = "".join(f"line {i}\r" for i in range(100_000))
    document = doc(text)
    start = time.perf_counter()
    for n in range(200):
        document.apply_change(change(50_000, n, 50_000, n, "x"))
    assert time.perf_counter() - start < 0.05  # ~1 µs each; the whole text would take ms
    assert content(document.line_list[50_000]) == "x" * 200 + "line 50000"


def test_changing_or_closing_an_unopened_document_is_ignored() -> None:
    workspace = LineWorkspace(None)
    unknown = types.VersionedTextDocumentIdentifier(uri="file:///never-opened.py", version=2)
    workspace.update_text_document(unknown, change(0, 0, 0, 0, "x"))
    workspace.remove_text_document(unknown.uri)
    assert workspace.text_documents == {}
