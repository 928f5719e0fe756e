"""The context block's bytes per model family."""

from __future__ import annotations

import pytest

from ollama_lsp.context import Snippet, placement, render_block

SNIPPETS = (
    Snippet("lib/models.py", "class Order:\n    id: int", "definition", 3),
    Snippet("lib/models.py", "def total(order: Order) -> float:", "definition", 10),
    Snippet("lib/util.py", "def fmt(x):\n    return str(x)", "edit", 0),
)


def render(family: str, language: str | None = "python", **kw: str | None) -> str:
    return render_block(SNIPPETS, family, language=language, current_path="app.py", **kw)


def test_qwen_repository_level_format_ends_with_the_current_file_header() -> None:
    assert render("qwen2.5-coder", repo="shop") == (
        "<|repo_name|>shop\n"
        "<|file_sep|>lib/models.py\nclass Order:\n    id: int\n\n"
        "def total(order: Order) -> float:\n"
        "<|file_sep|>lib/util.py\ndef fmt(x):\n    return str(x)\n"
        "<|file_sep|>app.py\n"
    )
    assert render("qwen2.5-coder").startswith("<|file_sep|>lib/models.py\n")


def test_starcoder2_file_separators() -> None:
    assert render("starcoder2", repo="shop") == (
        "<repo_name>shop"
        "<file_sep>lib/models.py\nclass Order:\n    id: int\n\n"
        "def total(order: Order) -> float:\n"
        "<file_sep>lib/util.py\ndef fmt(x):\n    return str(x)\n"
        "<file_sep>app.py\n"
    )


def test_codegemma_file_separators() -> None:
    assert render("codegemma", repo="shop") == (
        "<|file_separator|>lib/models.py\nclass Order:\n    id: int\n\n"
        "def total(order: Order) -> float:\n"
        "<|file_separator|>lib/util.py\ndef fmt(x):\n    return str(x)\n"
        "<|file_separator|>app.py\n"
    )


def test_deepseek_path_comments_as_its_readme_shows() -> None:
    assert render("deepseek-coder") == (
        "#lib/models.py\nclass Order:\n    id: int\n\ndef total(order: Order) -> float:\n\n"
        "#lib/util.py\ndef fmt(x):\n    return str(x)\n\n"
        "#app.py\n"
    )


@pytest.mark.parametrize("family", ["codellama", "prefix", "ollama-insert", "unknown-family"])
def test_path_headed_comment_blocks_for_families_without_file_tokens(family: str) -> None:
    assert render(family) == (
        "# path: lib/models.py\nclass Order:\n    id: int\n\ndef total(order: Order) -> float:\n\n"
        "# path: lib/util.py\ndef fmt(x):\n    return str(x)\n\n"
        "# path: app.py\n"
    )


def test_comment_syntax_follows_the_current_language() -> None:
    js = render_block(SNIPPETS[2:], "codellama", language="typescript", current_path="a.ts")
    assert js == "// path: lib/util.py\ndef fmt(x):\n    return str(x)\n\n// path: a.ts\n"
    lua = render_block(SNIPPETS[2:], "codellama", language=None, current_path="init.lua")
    assert lua.startswith("-- path: lib/util.py\n")
    go = render_block(SNIPPETS[2:], "deepseek-coder", language="go", current_path="main.go")
    assert go.startswith("// lib/util.py\n")


def test_no_snippets_no_block_and_no_current_path_no_header() -> None:
    assert render_block((), "qwen2.5-coder", language="python", current_path="app.py") == ""
    assert render_block(SNIPPETS[:1], "codegemma", language=None, current_path=None) == (
        "<|file_separator|>lib/models.py\nclass Order:\n    id: int\n"
    )


def test_placement() -> None:
    assert {f: placement(f) for f in ("qwen2.5-coder", "starcoder2", "codegemma")} == dict.fromkeys(
        ("qwen2.5-coder", "starcoder2", "codegemma"), "before"
    )
    assert placement("codellama") == placement("deepseek-coder") == placement("prefix") == "prefix"


def test_special_token_strings_in_snippets_stay_text() -> None:
    tricky = Snippet("templates.py", 'QWEN = "<|fim_prefix|>{prefix}"', "similar", 0)
    block = render_block((tricky,), "qwen2.5-coder", language=None, current_path="a.py")
    assert block == (
        '<|file_sep|>templates.py\nQWEN = "<\u200b|fim_prefix|>{prefix}"\n<|file_sep|>a.py\n'
    )
    assert block.count("<|fim_prefix|>") == 0


@pytest.mark.parametrize(
    "family", ["qwen2.5-coder", "starcoder2", "codegemma", "deepseek-coder", "codellama"]
)
@pytest.mark.parametrize("language", ["python", "html", "go"])
def test_a_rendered_block_never_exceeds_what_select_budgeted(family: str, language: str) -> None:
    current = "src/app.py"
    block = render_block(SNIPPETS, family, language=language, current_path=current, repo="r")
    headers = len(current) + 32  # the current file's own header and the repository's name
    assert len(block) <= sum(s.cost for s in SNIPPETS) + headers
