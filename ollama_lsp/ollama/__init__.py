"""Everything that knows Ollama's HTTP API, and nothing about LSP.

``OllamaProvider`` lives in ``ollama_lsp.ollama.provider`` (not re-exported here, to keep the
interface module ``ollama_lsp.provider`` importable from this package's types).
"""

from .client import OllamaClient
from .errors import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaError,
    OllamaHTTPError,
    OllamaStreamError,
    OllamaTimeout,
    OllamaUnreachable,
)
from .host import DEFAULT_HOST, host_from_env, parse_host

__all__ = [
    "DEFAULT_HOST",
    "InsertNotSupported",
    "MalformedResponse",
    "ModelNotFound",
    "ModelNotInLibrary",
    "OllamaClient",
    "OllamaError",
    "OllamaHTTPError",
    "OllamaStreamError",
    "OllamaTimeout",
    "OllamaUnreachable",
    "host_from_env",
    "parse_host",
]
