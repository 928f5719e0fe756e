"""``python -m ollama_lsp``: same as the ``ollama-lsp`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
