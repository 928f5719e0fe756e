"""Reading a half-written line: which closer of a suggestion the rest of the line has."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.closers import first_duplicate_closer


@pytest.mark.parametrize(
    ("before", "text", "after", "index"),
    [
        ("text.expandtabs(", "self.expand_tabs)", "self.tabsize)", 16),
        ("f(", "a)", ")", 1),
        ("f(", "a)", "", None),  # the rest does not close it: the suggestion must
        ("f(g(", "a))", ")", 1),  # the rest closes only the inner one
        ("f(g(", "a), b)", "))", 1),
        ("foo([", "x])", ")", 2),  # ``]`` closes the ``[`` the rest leaves open
        ("f(", "g(a))", ")", 4),  # the suggestion's own pair is skipped
        ('print("', 'hi")', '")', 2),
        ('print("', 'say \\"hi\\"")', '")', 10),  # escaped quotes do not close it
        ('print("', "it's\")", '")', 4),  # another quote inside the string is text
        ("f(", '")"', ")", None),  # a bracket inside the suggestion's own string
        ("f(", "a)", '")"', None),  # ... or inside a string of the rest
        ("    b", ")", ")", 0),  # a bracket opened on an earlier line, closed by the rest
        ("    b", "]", ")", None),
        ("x = 1  # it's (", "a)", ")", None),  # an apostrophe in a comment: stay careful
        ('    """Summ', 'ary."""', '"""', 4),
    ],
)
def test_the_first_closer_the_rest_of_the_line_already_has(
    before: str, text: str, after: str, index: int | None
) -> None:
    assert first_duplicate_closer(text, before, after) == index


def test_a_multi_line_suggestion_is_read_line_by_line() -> None:
    text = 'x = "unclosed\ny = (1)\n)'
    assert first_duplicate_closer(text, "f(", ")") == len(text) - 1
