"""Everything that knows Ollama's HTTP API, and nothing about LSP.

``OllamaProvider`` lives in ``ollama_lsp.ollama.provider`` (not re-exported here, to keep the
interface module ``ollama_lsp.provider`` importable from this package's types).
"""

from ..http.endpoint import (
    DEFAULT_HOST,
    Endpoint,
    HostError,
    host_from_env,
    parse_endpoint,
    parse_host,
)
from .client import OllamaClient
from .errors import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaError,
    OllamaHTTPError,
    OllamaRedirect,
    OllamaStreamError,
    OllamaTimeout,
    OllamaUnreachable,
    PoolExhausted,
    ResponseTooLarge,
)

__all__ = [
    "DEFAULT_HOST",
    "Endpoint",
    "HostError",
    "InsertNotSupported",
    "MalformedResponse",
    "ModelNotFound",
    "ModelNotInLibrary",
    "OllamaClient",
    "OllamaError",
    "OllamaHTTPError",
    "OllamaRedirect",
    "OllamaStreamError",
    "OllamaTimeout",
    "OllamaUnreachable",
    "PoolExhausted",
    "ResponseTooLarge",
    "host_from_env",
    "parse_endpoint",
    "parse_host",
]
