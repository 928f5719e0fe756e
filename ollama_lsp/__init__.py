"""ollama-lsp: AI code completion for any LSP editor, from local models served by Ollama."""

__version__ = "0.1.0"
