"""LSP positions in all three encodings, including accents, emoji, CRLF and bad positions."""

import pytest

from ollama_lsp.positions import PositionError, cursor_at, index_in_line, units

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
    text = f"first line\n{LINE}\nlast"
    cursor = cursor_at(text, 1, character, encoding)
    assert text[: cursor.offset].split("\n")[-1] == expected_prefix
    assert cursor.character == character


def test_character_past_end_of_line_is_clamped_per_spec() -> None:
    text = "ab\ncd\n"
    cursor = cursor_at(text, 0, 99, "utf-16")
    assert cursor.offset == 2 and cursor.character == 2
    cursor = cursor_at(f"{LINE}\n", 0, 99, "utf-16")
    assert cursor.offset == len(LINE) and cursor.character == units(LINE, "utf-16")


def test_line_past_end_of_document_is_an_error() -> None:
    with pytest.raises(PositionError, match="line 5 is past the end of the document"):
        cursor_at("a\nb\n", 5, 0)
    with pytest.raises(PositionError):
        cursor_at("a", -1, 0)


def test_last_line_and_empty_document() -> None:
    assert cursor_at("a\nb\n", 2, 0).offset == 4
    assert cursor_at("", 0, 0).offset == 0
    assert cursor_at("", 0, 3).character == 0


def test_crlf_lines() -> None:
    text = "one\r\ntwo\r\nthree"
    cursor = cursor_at(text, 1, 10, "utf-16")
    assert text[cursor.line_start : cursor.line_end] == "two"
    assert cursor.offset == text.index("two") + 3
    assert cursor_at(text, 2, 2).offset == text.index("three") + 2


def test_inside_a_surrogate_pair_moves_past_it() -> None:
    assert index_in_line("😀x", 1, "utf-16") == 1


def test_big_document() -> None:
    text = "x = 1\n" * 400_000
    cursor = cursor_at(text, 300_000, 3)
    assert cursor.offset == 300_000 * 6 + 3
