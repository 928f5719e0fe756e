"""Provider-neutral errors: a backend's errors subclass these, so the engine and the server
react to "unreachable" or "model missing" without knowing which backend said it."""

from __future__ import annotations

__all__ = [
    "CertificateUntrusted",
    "CredentialsRejected",
    "ModelUnavailable",
    "NeedsOllama",
    "ProviderError",
    "ProviderUnreachable",
]


class ProviderError(Exception):
    """A backend failed; ``message`` is written for the user."""

    #: The host took the request but no answer began (it closed or reset the connection):
    #: nothing was generated, so another host of a pool may answer the same request.
    unanswered: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnreachable(ProviderError):
    """The backend cannot be used at all — not running, not where we look, or it refuses our
    credentials or certificate: report once per host, retry quietly.

    ``host`` names it as users see it (never with a password), so that the one message and
    the "reachable again" that follows name the same host."""

    host: str = ""


class ModelUnavailable(ProviderError):
    """The model is not installed; ``model`` names it so the user can be offered a pull."""

    model: str


class NeedsOllama(ProviderError):
    """A model-management call on a backend that has no model store (an OpenAI-compatible
    server serves the models it was started with)."""

    def __init__(self, what: str, host: str) -> None:
        super().__init__(
            f"{what} needs Ollama, but {host} is an OpenAI-compatible server "
            '(ollama.api = "openai"): manage its models on that server, or set ollama.api to '
            '"ollama" for an Ollama host'
        )
        self.host = host


class CredentialsRejected(ProviderUnreachable):
    """The host (its proxy, really: Ollama has no authentication) answered 401 or 403."""

    def __init__(self, host: str, status: int) -> None:
        super().__init__(
            f"{host} rejected ollama-lsp's credentials (HTTP {status}) — check the "
            "`ollama.headers` setting (and the environment variable its ${env:…} names) or the "
            "user:password in `ollama.host`"
        )
        self.host = host
        self.status = status


class CertificateUntrusted(ProviderUnreachable):
    """The TLS handshake failed on the host's certificate."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(
            f"The TLS certificate of {host} is not trusted ({detail}) — set `ollama.tls.caFile` "
            "to your team's CA certificate (a PEM file), or SSL_CERT_FILE for every tool"
        )
        self.host = host
