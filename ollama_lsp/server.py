"""The pygls language server: state, settings and wiring. The handlers live in ``features/``
and ``commands``, and stay thin.

State lives on ``OllamaLanguageServer`` (not module globals) so that tests and the CLI can
build independent servers. Settings are one ``Configuration``; the parts that depend on them
subscribe to the sections they read (the backend to where and how we connect, the engine to
the rest), so a change reaches each part one way. Each condition is told to the user once
(see ``notices``), everything else only logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from . import __version__, commands, logs
from .backend import Backend, config_from
from .completion.engine import CompletionEngine
from .configuration import Configuration
from .context.blocks import ContextBlocks
from .documents import LineDocument
from .documents import install as install_line_documents
from .features import completion, documents
from .features.listener import Listener
from .http.endpoint import endpoint_or_default, host_from_env
from .models.manager import ModelManager
from .notices import NoticeBoard
from .positions import Cursor, PositionError, cursor_in, encoding_name
from .protocol import OllamaProtocol
from .provider import ProviderError
from .settings import ParseResult, Settings

log = logging.getLogger(__name__)

#: How long ``workspace/configuration`` may take before the settings we have are kept.
CONFIGURATION_WAIT_S = 5.0
#: Settings that decide which clients exist (``backend``); a change rebuilds them.
BACKEND_SECTIONS = ("hosts", "api", "headers", "tls", "keep_alive")


class OllamaLanguageServer(LanguageServer):
    """Holds the backend (clients and host pool), the completion engine and the model manager
    for the process, and the one ``Configuration`` they subscribe to."""

    protocol: OllamaProtocol

    def __init__(self, *, ollama_host: str | None = None) -> None:
        super().__init__("ollama-lsp", __version__, protocol_cls=OllamaProtocol)
        #: Where Ollama is when the settings name no host; a bad ``--ollama-host`` or
        #: ``OLLAMA_HOST`` falls back to the default and ``host_problem`` tells the user once.
        self.env_host, self.host_problem = endpoint_or_default(
            ollama_host or host_from_env(), "--ollama-host" if ollama_host else "OLLAMA_HOST"
        )
        self.configuration = Configuration()
        settings = self.configuration.effective
        self.backend = Backend(config_from(settings, self.env_host), keep_alive=settings.keep_alive)
        self.notices = NoticeBoard()
        self.context = ContextBlocks(self._text_of, settings.context)
        self.engine = CompletionEngine(
            self.backend.provider, settings, listener=Listener(self), context=self.context
        )
        self.models = ModelManager(
            self.backend.store, self.backend.provider, num_ctx=self.num_ctx,
            forget=self.engine.forget_model,
        )  # fmt: skip
        self.background: set[asyncio.Task[Any]] = set()
        self.initialized = False
        #: Documents the client has asked inline completions for: there the ghost text is
        #: the suggestion, and automatic textDocument/completion requests are not served.
        self.inline_documents: set[str] = set()
        #: Set by a settings change that rebuilt the clients; read once by ``apply``.
        self._reconnected = False
        for section in BACKEND_SECTIONS:
            self.configuration.subscribe(section, self._backend_settings)
        self.configuration.subscribe("", lambda _old, new: self.engine.configure(new))

    @property
    def settings(self) -> Settings:
        """The settings in force: the client's, overlaid with palette selections."""
        return self.configuration.effective

    def _backend_settings(self, _previous: Any, _value: Any) -> None:
        settings = self.settings
        if self.backend.configure(config_from(settings, self.env_host), settings.keep_alive):
            self.engine.forget_model()
            self._reconnected = True

    def _text_of(self, uri: str) -> str | None:
        """An open document's text, for workspace context (read at pauses, not per key)."""
        document = self.workspace.text_documents.get(unquote(uri))
        return document.source if isinstance(document, LineDocument) else None

    def run_task(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, keeping a reference and logging its failure."""
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    # -- messages ---------------------------------------------------------------------------

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log_to_client(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    # -- settings ---------------------------------------------------------------------------

    def num_ctx(self) -> int:
        return self.settings.completion.context_tokens

    def apply(self, result: ParseResult, previous: Settings) -> None:
        """Tell the user what a settings change could not take; warm the model up if the
        model or the host changed (the subscribers have applied the rest already)."""
        if self.host_problem is not None:
            self.show(self.host_problem)
            self.host_problem = None
        if self.notices.settings_errors(result.errors):
            bad = "; ".join(result.errors)
            self.show(f"ollama-lsp ignored invalid settings and kept the previous values: {bad}")
        for problem in self.backend.problems:
            if self.notices.settings_errors((problem,)):
                self.show(problem)
        reconnected, self._reconnected = self._reconnected, False
        if self.initialized and (reconnected or self.settings.model != previous.model):
            self.engine.warm_up()

    async def pull_configuration(self) -> None:
        """Re-read the ``ollama`` section, when the client offers workspace/configuration."""
        caps = self.client_capabilities.workspace if self.client_capabilities else None
        if not (caps and caps.configuration):
            return
        try:
            (section,) = await self.protocol.request(  # bounded: a client may never answer
                types.WORKSPACE_CONFIGURATION,
                types.ConfigurationParams(items=[types.ConfigurationItem(section="ollama")]),
                CONFIGURATION_WAIT_S,
            )
        except Exception as exc:  # a client that fails this request must not stop us
            log.warning("workspace/configuration failed: %s", exc)
            return
        if section is not None:
            previous = self.settings
            self.apply(self.configuration.update(section, from_base=True), previous)

    async def status(self) -> dict[str, Any]:
        """``ollama.status``: where we talk to and each host's state, the models, this
        machine's memory, and what the engine and its cache have done."""
        settings, engine = self.settings, self.engine
        stats, cache = engine.stats, engine.cache
        return {
            "host": self.backend.host,
            "api": self.backend.api,
            "hosts": self.backend.status(),
            **await self.models.status(),
            "model": settings.model,
            "chatModel": settings.chat_model,
            "cache": {"hits": cache.hits, "misses": cache.misses, "entries": cache.entries,
                      "typedThrough": cache.typed},
            "completions": {"count": stats.requests, "modelCalls": stats.model_calls,
                            "p50Ms": stats.p50_ms(), "accepted": stats.accepted,
                            "timeouts": stats.timeouts, "landedLate": stats.landed_late,
                            "prefills": stats.prefills, "speculations": stats.speculations,
                            "speculationHits": stats.speculation_hits,
                            "speculationsUnsure": stats.speculations_unsure},
            "suggestions": engine.counts.to_json(),
        }  # fmt: skip

    # -- documents and positions ------------------------------------------------------------

    def document(self, uri: str) -> LineDocument:
        """An open document, or a clear InvalidParams error (we never read unopened files)."""
        document = self.workspace.text_documents.get(unquote(uri))  # pygls's keys
        if not isinstance(document, LineDocument):
            raise JsonRpcInvalidParams(
                f"Document {uri} is not open: send textDocument/didOpen before asking for "
                "completions"
            )
        return document

    def cursor(self, document: LineDocument, position: types.Position) -> Cursor:
        encoding = encoding_name(self.workspace.position_encoding)
        try:
            return cursor_in(document.line_list, position.line, position.character, encoding)
        except PositionError as exc:
            raise JsonRpcInvalidParams(f"{exc} ({document.uri})") from None


def create_server(ollama_host: str | None = None) -> OllamaLanguageServer:
    """Build a server with every feature registered."""
    server = OllamaLanguageServer(ollama_host=ollama_host)

    @server.feature(types.INITIALIZE)
    def initialize(ls: OllamaLanguageServer, params: types.InitializeParams) -> None:
        logs.client_handler.connect(ls)  # from now on our log lines go to the editor's log
        install_line_documents(ls)
        folders = params.workspace_folders or []
        ls.context.set_root(folders[0].uri if folders else params.root_uri)
        previous = ls.settings
        ls.apply(ls.configuration.initialize(params.initialization_options), previous)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: OllamaLanguageServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()
        ls.initialized = True
        ls.run_task(_announce(ls))
        ls.engine.warm_up()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: OllamaLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if isinstance(params.settings, dict) and "ollama" in params.settings:
            previous = ls.settings
            ls.apply(ls.configuration.update(params.settings["ollama"], from_base=False), previous)
        await ls.pull_configuration()

    documents.register(server)
    completion.register(server)
    commands.register(server)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: OllamaLanguageServer, params: None) -> None:
        for task in list(ls.background):
            task.cancel()
        ls.engine.stop_background()
        await ls.backend.aclose()

    return server


async def _announce(ls: OllamaLanguageServer) -> None:
    """Log which server we talk to; a down one is only logged here, not shown."""
    try:
        version = await ls.models.store.version()
    except ProviderError as exc:
        message = exc.message
    else:
        # An OpenAI-compatible server's version already says what it is.
        what = f"Ollama {version}" if ls.backend.api == "ollama" else version
        message = f"ollama-lsp {__version__} using {what} at {ls.backend.host}"
    ls.log_to_client(message, types.MessageType.Info)
