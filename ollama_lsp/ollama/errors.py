"""Errors from talking to Ollama, each with a message the user can act on.

The server shows these messages to people in their editor, so every message says what
happened *and* what to do next, names the host or model involved, and never leaks an
httpx traceback. The classes let callers react differently: an unreachable Ollama is
reported once and retried quietly, a missing model offers a pull, anything else is logged.
"""

from __future__ import annotations

from ..provider.errors import ModelUnavailable, ProviderError, ProviderUnreachable


class OllamaError(ProviderError):
    """Any failure talking to Ollama. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OllamaUnreachable(OllamaError, ProviderUnreachable):
    """Nothing answers at the host: Ollama is not running, or the host is wrong."""

    def __init__(self, host: str, detail: str = "") -> None:
        message = f"Ollama is not reachable at {host} — start it with `ollama serve`"
        message += " (or set the `ollama.host` setting / OLLAMA_HOST to where it runs)"
        if detail:
            message += f": {detail}"
        super().__init__(message)
        self.host = host


class OllamaTimeout(OllamaError):
    """Ollama accepted the connection but did not answer in time."""

    def __init__(self, host: str, seconds: float, what: str) -> None:
        super().__init__(
            f"Ollama at {host} did not answer {what} within {seconds:g} s — it may be busy "
            "loading a model; check `ollama ps` and the Ollama server log"
        )
        self.host = host


class ModelNotFound(OllamaError, ModelUnavailable):
    """The model is not installed locally."""

    def __init__(self, model: str, *, status: int | None = 404) -> None:
        super().__init__(
            f"Model '{model}' is not installed in Ollama — pull it with `ollama pull {model}`"
            " or your editor's Ollama pull command (ollama.pullModel)",
            status=status,
        )
        self.model = model


class ModelNotInLibrary(OllamaError):
    """A pull failed because the registry has no model by that name."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(
            f"Ollama cannot pull '{model}': {detail} — check the model name and tag "
            "(for example codellama:7b-code or tinyllama:1.1b-chat-v1-q4_0)"
        )
        self.model = model


class InsertNotSupported(OllamaError):
    """A fill-in-the-middle request (``suffix``) went to a model whose template has no insert."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(
            f"Model '{model}' does not support fill-in-the-middle ({detail}) — choose a code "
            "model such as codellama:7b-code",
            status=400,
        )
        self.model = model


class OllamaHTTPError(OllamaError):
    """Ollama answered with an HTTP error status; ``error`` is Ollama's own text."""

    def __init__(self, status: int, error: str, *, what: str) -> None:
        super().__init__(f"Ollama answered {status} to {what}: {error}", status=status)
        self.error = error


class OllamaStreamError(OllamaError):
    """Ollama reported an error in an ``{"error": ...}`` line after the stream had started."""

    def __init__(self, error: str, *, what: str) -> None:
        super().__init__(f"Ollama reported an error during {what}: {error}")
        self.error = error


class MalformedResponse(OllamaError):
    """What Ollama sent is not what its API promises: bad JSON, or a stream cut short."""

    def __init__(self, detail: str, *, what: str) -> None:
        super().__init__(
            f"Ollama sent a malformed response to {what}: {detail} — is the host really "
            "an Ollama server, and is it up to date?"
        )


class ResponseTooLarge(MalformedResponse):
    """A line, a body or a stream's text went past its cap; we stopped reading and hung up."""

    def __init__(self, detail: str, *, what: str) -> None:
        OllamaError.__init__(
            self,
            f"Ollama sent {detail} in answer to {what}, so ollama-lsp stopped reading — is the "
            "host really an Ollama server (and not a proxy or another service)?",
        )


class StreamBroken(MalformedResponse):
    """The connection broke while an answer was streaming: the host stopped or restarted (a
    broken answer is not a malformed one, so the message does not doubt it is Ollama)."""

    def __init__(self, host: str, detail: str, *, what: str) -> None:
        OllamaError.__init__(
            self,
            f"The connection to Ollama at {host} broke during {what} ({detail}) — Ollama may have "
            "stopped or restarted (see `ollama ps` and its log); the next request tries again",
        )
        self.host = host


class OllamaRedirect(OllamaError):
    """A 3xx: we never follow redirects, since Ollama itself never sends one to elsewhere."""

    def __init__(self, host: str, status: int, location: str, *, what: str) -> None:
        super().__init__(
            f"Ollama at {host} answered {what} with a redirect ({status}) to {location} — "
            "probably a proxy or the wrong host; set `ollama.host` (or OLLAMA_HOST) to "
            "Ollama's own address",
            status=status,
        )
        self.location = location


class PoolExhausted(OllamaError):
    """No connection to Ollama became free in time: that many requests are still running."""

    def __init__(self, host: str, connections: int, what: str) -> None:
        super().__init__(
            f"all {connections} connections to Ollama at {host} stayed busy, so {what} "
            "could not be sent — Ollama may be overloaded; try again in a moment"
        )
        self.host = host
