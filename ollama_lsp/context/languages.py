"""What the context package needs to know about a language: its family of definition
syntax and how it writes a line comment. Editors send LSP language ids; files without one
are known by their extension.
"""

from __future__ import annotations

import posixpath

#: LSP language id -> the syntax group whose definitions we can find.
_GROUPS: dict[str, str] = {
    "python": "python",
    "javascript": "js",
    "javascriptreact": "js",
    "typescript": "js",
    "typescriptreact": "js",
    "go": "go",
    "rust": "rust",
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".java": "java",
    ".rb": "ruby",
    ".sh": "shellscript",
    ".lua": "lua",
    ".sql": "sql",
    ".hs": "haskell",
    ".html": "html",
    ".css": "css",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
}

_HASH = {"python", "ruby", "shellscript", "perl", "r", "yaml", "toml", "elixir", "julia",
         "nim", "powershell", "dockerfile", "makefile", "coffeescript", "crystal"}  # fmt: skip
_DASHES = {"lua", "sql", "haskell", "elm", "ada", "vhdl"}
_SEMICOLONS = {"clojure", "lisp", "scheme", "racket", "emacs-lisp", "commonlisp"}


def language_of(path: str | None, language: str | None) -> str | None:
    """The LSP language id, from the editor when it sent one, else from the extension."""
    if language:
        return language.lower()
    if not path:
        return None
    return _EXTENSIONS.get(posixpath.splitext(path)[1].lower())


def syntax_group(language: str | None) -> str | None:
    """``python``, ``js``, ``go``, ``rust`` — or None for a language we do not index."""
    return _GROUPS.get(language or "")


def comment(language: str | None, text: str) -> str:
    """``text`` as one line comment of ``language`` (C-style ``//`` when unknown)."""
    if language in _HASH:
        return f"# {text}"
    if language in _DASHES:
        return f"-- {text}"
    if language in _SEMICOLONS:
        return f";; {text}"
    if language in {"html", "xml", "markdown", "vue", "svelte"}:
        return f"<!-- {text} -->"
    if language == "css":
        return f"/* {text} */"
    return f"// {text}"
