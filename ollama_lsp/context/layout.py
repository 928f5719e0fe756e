"""The context block per model family: the text that goes before the current file's part
of a FIM prompt, so that consecutive prompts share it byte for byte.

Families trained on whole repositories have tokens for it, and we use them as their
authors document:

* Qwen2.5-Coder (README, "repository-level code completion"):
  ``<|repo_name|>{repo}\\n<|file_sep|>{path}\\n{code}\\n ... <|file_sep|>{current}\\n``
  and then ``<|fim_prefix|>...``.
* StarCoder2 (paper, section 5): ``<repo_name>{repo}<file_sep>{path}\\n{code}...``; the
  current file's header is written as our single-file template already writes it,
  ``<file_sep>{current}\\n`` before ``<fim_prefix>``.
* CodeGemma (model docs: "use the file separator token for multi-file contexts"):
  ``<|file_separator|>{path}\\n{code}\\n``.

Families without such tokens get path-headed comment blocks in the current file's comment
syntax: DeepSeek-Coder as its README shows repository-level input (``#utils.py`` above each
file), everything else (CodeLlama, plain prefix, Ollama's own template) as
``# path: lib/util.py``. Those families learned FIM on single documents with the FIM
opener first, so for them the block belongs at the start of the prefix text — after
``<PRE> `` or ``<｜fim▁begin｜>`` — see ``placement``; either way it precedes every byte that
changes while the user types.

Neighbouring snippets of one file share one header. When a block is not empty it ends with the current file's own header, so the template
that follows must not add one again (build it with ``path=None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from ..completion.special import neutralise
from .languages import comment, language_of
from .records import Snippet

Placement = Literal["before", "prefix"]

_TOKEN_FAMILIES = {
    "qwen2.5-coder": "<|file_sep|>",
    "starcoder2": "<file_sep>",
    "codegemma": "<|file_separator|>",
}
_REPO_TOKENS = {"qwen2.5-coder": "<|repo_name|>{repo}\n", "starcoder2": "<repo_name>{repo}"}


def placement(family: str) -> Placement:
    """Where the block goes: ``before`` the whole FIM prompt (families with file tokens),
    or at the start of the FIM ``prefix`` text (the others)."""
    return "before" if family in _TOKEN_FAMILIES else "prefix"


def render_block(
    snippets: Sequence[Snippet],
    family: str,
    *,
    language: str | None,
    current_path: str | None,
    repo: str | None = None,
) -> str:
    """The block for ``snippets`` in ``family``'s layout; ``""`` for no snippets.

    Pure: identical input gives identical bytes. Special-token strings in a snippet's text
    are neutralised as in the current file's windows (``completion.special``). ``repo`` names the repository where the
    family has a token for it (the workspace folder's name; left out when None).
    """
    if not snippets:
        return ""
    # a file about prompts (our own templates.py) holds special-token strings: as text in a
    # raw prompt they would become tokens, a new file or the cursor inside the snippet
    snippets = [replace(s, text=neutralise(s.text)) for s in snippets]
    separator = _TOKEN_FAMILIES.get(family)
    if separator is not None:
        head = _REPO_TOKENS[family].format(repo=repo) if repo and family in _REPO_TOKENS else ""
        body = "".join(f"{separator}{path}\n{text}\n" for path, text in _by_file(snippets))
        tail = f"{separator}{current_path}\n" if current_path else ""
        return head + body + tail
    language = language_of(current_path, language) or language_of(snippets[0].path, None)
    body = "".join(
        f"{_header(family, language, path)}\n{text}\n\n" for path, text in _by_file(snippets)
    )
    tail = f"{_header(family, language, current_path)}\n" if current_path else ""
    return body + tail


def _by_file(snippets: Sequence[Snippet]) -> list[tuple[str, str]]:
    """Neighbouring snippets of one file under one header, a blank line between them: a
    file named twice in a row would read as two files."""
    grouped: list[tuple[str, str]] = []
    for snippet in snippets:
        if grouped and grouped[-1][0] == snippet.path:
            grouped[-1] = (snippet.path, f"{grouped[-1][1]}\n\n{snippet.text}")
        else:
            grouped.append((snippet.path, snippet.text))
    return grouped


def _header(family: str, language: str | None, path: str) -> str:
    """A comment naming ``path``: DeepSeek-Coder's ``#utils.py`` or ``# path: utils.py``."""
    if family == "deepseek-coder":
        return "#" + path if language == "python" else comment(language, path)
    return comment(language, f"path: {path}")
