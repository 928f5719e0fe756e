"""LSP positions in all three encodings, including accents, emoji, CRLF and bad positions."""

import pytest
from lsprotocol.types import PositionEncodingKind

from ollama_lsp.positions import PositionError, cursor_in, encoding_name, index_in_line, units

LINE = "café = '😀' + x"


@pytest.mark.parametrize(
    ("encoding", "character", "expected_prefix"),
    [
        ("utf-16", 4, "café"),
        ("utf-8", 5, "café"),
        ("utf-32", 4, "café"),
        ("utf-16", 11, "café = '😀'"),  # the emoji is 2 UTF-16 units
        ("utf-8", 14, "café = '😀'"),  # é is 2 bytes, the emoji 4
        ("utf-32", 10, "café = '😀'"),
    ],
)
def test_prefix_ends_exactly_at_the_cursor(encoding, character, expected_prefix) -> None:
    lines = ["first line", LINE, "last"]
    cursor = cursor_in(lines, 1, character, encoding)
    assert lines[1][: cursor.column] == expected_prefix
    assert cursor.character == character


def test_character_past_end_of_line_is_clamped_per_spec() -> None:
    cursor = cursor_in(["ab", "cd", ""], 0, 99, "utf-16")
    assert cursor.column == 2 and cursor.character == 2
    cursor = cursor_in([LINE, ""], 0, 99, "utf-16")
    assert cursor.column == len(LINE) and cursor.character == units(LINE, "utf-16")


def test_line_past_end_of_document_is_an_error() -> None:
    with pytest.raises(PositionError, match="line 5 is past the end of the document"):
        cursor_in(["a", "b", ""], 5, 0)
    with pytest.raises(PositionError):
        cursor_in(["a"], -1, 0)


def test_last_line_and_empty_document() -> None:
    assert cursor_in(["a", "b", ""], 2, 0).column == 0
    assert cursor_in([""], 0, 0).column == 0
    assert cursor_in([""], 0, 3).character == 0


def test_crlf_lines_never_point_after_the_carriage_return() -> None:
    lines = ["one\r", "two\r", "three"]
    cursor = cursor_in(lines, 1, 10, "utf-16")
    assert cursor.column == 3 and cursor.character == 3
    assert cursor_in(lines, 2, 2).column == 2


def test_inside_a_surrogate_pair_moves_past_it() -> None:
    assert index_in_line("😀x", 1, "utf-16") == 1


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (PositionEncodingKind.Utf16, "utf-16"),
        (PositionEncodingKind.Utf8, "utf-8"),
        (PositionEncodingKind.Utf32, "utf-32"),
        ("utf-8", "utf-8"),
        (None, "utf-16"),
        ("latin-1", "utf-16"),
    ],
)
def test_encoding_names_from_pygls(kind, name) -> None:
    """``str(PositionEncodingKind.Utf16)`` is ``'PositionEncodingKind.Utf16'``: not a name."""
    assert encoding_name(kind) == name


@pytest.mark.parametrize(("encoding", "end"), [("utf-16", 6), ("utf-8", 8), ("utf-32", 5)])
def test_line_end_after_an_emoji_is_after_the_whole_emoji(encoding: str, end: int) -> None:
    cursor = cursor_in(["s = 😀"], 0, 99, encoding_name(encoding))
    assert cursor.column == 5 and cursor.character == end


def test_a_position_inside_a_character_answers_with_the_position_after_it() -> None:
    assert cursor_in(["😀x"], 0, 1, "utf-16").character == 2
    assert cursor_in(["éx"], 0, 1, "utf-8").character == 2
