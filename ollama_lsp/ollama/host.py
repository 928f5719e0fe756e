"""Moved to ``ollama_lsp.http.endpoint`` (kept while the settings module moves over)."""

from ..http.endpoint import *  # noqa: F403
from ..http.endpoint import HostError, parse_endpoint, redact_userinfo  # noqa: F401
