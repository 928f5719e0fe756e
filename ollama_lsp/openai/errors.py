"""Errors from talking to an OpenAI-compatible server, each with a message the user can act on.

They subclass the provider-neutral errors (``provider.errors``), so the engine, the server and a
pool of hosts react to "unreachable", "model missing" or "5xx" without knowing the backend.
Every message names the host as users see it (``Endpoint.display``: never a password) and says
what to do next; ``status`` is the HTTP status when there was one (a pool fails over on 5xx).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..provider.errors import ModelUnavailable, ProviderError, ProviderUnreachable

#: How to start the server we test against, for messages that say "start it".
START_EXAMPLE = "python -m llama_cpp.server --model MODEL.gguf --model_alias NAME"


class OpenAIError(ProviderError):
    """Any failure talking to an OpenAI-compatible server."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OpenAIUnreachable(OpenAIError, ProviderUnreachable):
    """Nothing answers at the host: the server is not running, or the host is wrong."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"The OpenAI-compatible server is not reachable at {host} — start it (for example "
            f"`{START_EXAMPLE}`) or set `ollama.host` to where it runs"
        )
        self.host = host


class OpenAITimeout(OpenAIError):
    """The server accepted the connection but did not answer in time."""

    def __init__(self, host: str, seconds: float, what: str) -> None:
        super().__init__(
            f"The OpenAI-compatible server at {host} did not answer {what} within {seconds:g} s "
            "— it may be busy with other requests or still loading its model; check its log"
        )
        self.host = host


class ModelNotServed(OpenAIError, ModelUnavailable):
    """The server does not serve the model: it serves what it was started with (``served``)."""

    def __init__(
        self, model: str, served: Sequence[str], host: str, *, status: int | None = None
    ) -> None:
        listed = ", ".join(f"'{name}'" for name in served) if served else "no model it lists"
        super().__init__(
            f"The OpenAI-compatible server at {host} does not serve the model '{model}' (it "
            f"serves {listed}) — set `ollama.model` to one of those, or start the server with "
            f"that model under this name (llama-server: --alias {model}; llama_cpp.server: "
            f"--model_alias {model})",
            status=status,
        )
        self.model = model
        self.served = tuple(served)
        self.host = host


class ContextExceeded(OpenAIError):
    """The prompt plus ``max_tokens`` did not fit the context the server runs with."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(
            f"The OpenAI-compatible server at {host} refused a prompt longer than its context "
            f"({detail}) — lower `ollama.completion.contextTokens` to the server's context, or "
            "start the server with a larger one (llama-server: --ctx-size; llama_cpp.server: "
            "--n_ctx)",
            status=400,
        )
        self.host = host


class OpenAIHTTPError(OpenAIError):
    """The server answered with an HTTP error status; ``error`` is its own text, ``code`` its
    machine-readable code when it sent one (``context_length_exceeded``, ...)."""

    def __init__(
        self, host: str, status: int, error: str, *, what: str, code: str | None = None
    ) -> None:
        super().__init__(
            f"The OpenAI-compatible server at {host} answered {status} to {what}: {error}",
            status=status,
        )
        self.error = error
        self.code = code


class RouteMissing(OpenAIHTTPError):
    """A 404 for the route itself: the host is not an OpenAI-compatible server, or the URL's
    path is wrong (we add ``/v1`` unless it ends in it)."""

    def __init__(self, host: str, path: str, *, what: str) -> None:
        OpenAIError.__init__(
            self,
            f"{host} has no {path} (HTTP 404 to {what}) — is it an OpenAI-compatible server? "
            "Set `ollama.host` to its base URL, such as http://127.0.0.1:8000 or "
            "http://127.0.0.1:8000/v1",
            status=404,
        )
        self.error = "not found"
        self.code = None
        self.path = path


class OpenAIStreamError(OpenAIError):
    """The server reported an error (``{"error": ...}``) after the stream had started."""

    def __init__(self, host: str, error: str, *, what: str) -> None:
        super().__init__(f"The OpenAI-compatible server at {host} failed during {what}: {error}")
        self.error = error


class StreamInterrupted(OpenAIError):
    """``[DONE]`` came before any ``finish_reason``: the server cut the answer short.

    llama_cpp.server does this to a running stream whenever another request arrives
    (``--interrupt_requests``, on by default): what came so far is not the whole answer, so it
    must not be shown or cached as one."""

    def __init__(self, host: str, *, what: str) -> None:
        super().__init__(
            f"The OpenAI-compatible server at {host} ended {what} early, without saying why — "
            "another request interrupted it (llama_cpp.server: start it with "
            "`--interrupt_requests False` so requests wait their turn instead)"
        )
        self.host = host


class MalformedResponse(OpenAIError):
    """What the server sent is not what the OpenAI API promises: bad JSON, a cut stream."""

    def __init__(self, detail: str, *, what: str) -> None:
        super().__init__(
            f"The OpenAI-compatible server sent a malformed response to {what}: {detail} — is "
            "the host really an OpenAI-compatible server? Its log may say more"
        )


class StreamBroken(MalformedResponse):
    """The connection broke while an answer was streaming: the server stopped or restarted."""

    def __init__(self, host: str, detail: str, *, what: str) -> None:
        OpenAIError.__init__(
            self,
            f"The connection to the OpenAI-compatible server at {host} broke during {what} "
            f"({detail}) — it may have stopped or restarted (see its log); the next request "
            "tries again",
        )
        self.host = host


class ResponseTooLarge(MalformedResponse):
    """A line, a body or a stream's text went past its cap; we stopped reading and hung up."""

    def __init__(self, detail: str, *, what: str) -> None:
        OpenAIError.__init__(
            self,
            f"The OpenAI-compatible server sent {detail} in answer to {what}, so ollama-lsp "
            "stopped reading — is the host really an OpenAI-compatible server (and not a proxy "
            "or another service)?",
        )


class OpenAIRedirect(OpenAIError):
    """A 3xx: redirects are never followed (a redirect elsewhere is a proxy or a wrong URL)."""

    def __init__(self, host: str, status: int, location: str, *, what: str) -> None:
        super().__init__(
            f"The server at {host} answered {what} with a redirect ({status}) to {location} — "
            "probably a proxy or the wrong URL; set `ollama.host` to the server's own address",
            status=status,
        )
        self.location = location


class PoolExhausted(OpenAIError):
    """No connection to the server became free in time: that many requests are running."""

    def __init__(self, host: str, connections: int, what: str) -> None:
        super().__init__(
            f"all {connections} connections to the OpenAI-compatible server at {host} stayed "
            f"busy, so {what} could not be sent — the server may be overloaded; try again soon"
        )
        self.host = host
