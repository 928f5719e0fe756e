"""The pygls language server: capabilities, lifecycle and wiring. Handlers stay thin.

State lives on ``OllamaLanguageServer`` (not module globals) so that tests and the CLI can
build independent servers. The handlers convert LSP positions and settings, hand the work
to the completion engine or the model manager, and turn what those report into messages —
each condition told to the user once (see ``notices``), everything else only logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from . import __version__, logs, settings
from .completion.engine import CompletionEngine, Query
from .context.blocks import ContextBlocks
from .documents import LineDocument
from .documents import install as install_line_documents
from .models.manager import ModelManager
from .models.pulling import PullTracker
from .notices import NoticeBoard
from .ollama.client import OllamaClient
from .http.endpoint import endpoint_or_default, host_from_env, parse_endpoint
from .ollama.provider import OllamaProvider
from .positions import Cursor, PositionError, cursor_in, encoding_name
from .progress import WorkDone
from .protocol import OllamaProtocol
from .provider import ModelUnavailable, ProviderError

log = logging.getLogger(__name__)

#: Answers that come this soon after the model was asked show no progress at all: a warm
#: model's one-line suggestion takes about that long, and a status-bar spinner flashing on
#: every keystroke is noise. Counted from the ask, not from the request (see ``_complete``).
PROGRESS_DELAY_S = 0.3
ACCEPTED_COMMAND = "ollama.accepted"
#: Copilot's notifications about inline suggestions (not in LSP 3.18), supported as well.
DID_SHOW_COMPLETION = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT_COMPLETION = "textDocument/didPartiallyAcceptCompletion"
#: How long ``workspace/configuration`` may take before the settings we have are kept.
CONFIGURATION_WAIT_S = 5.0
COMPLETION_TRIGGERS = [".", "(", "[", "{", ",", ":", "=", "\n"]


class OllamaLanguageServer(LanguageServer):
    """Holds the one Ollama client, provider and completion engine for the process."""

    protocol: OllamaProtocol

    def __init__(self, *, ollama_host: str | None = None) -> None:
        super().__init__("ollama-lsp", __version__, protocol_cls=OllamaProtocol)
        #: Where Ollama is when the settings name no host; a bad ``--ollama-host`` or
        #: ``OLLAMA_HOST`` falls back to the default and ``host_problem`` tells the user once.
        self.env_host, self.host_problem = endpoint_or_default(
            ollama_host or host_from_env(), "--ollama-host" if ollama_host else "OLLAMA_HOST"
        )
        self.client = OllamaClient(self.env_host)
        self.settings = settings.Settings()
        self.provider = OllamaProvider(self.client, keep_alive=self.settings.keep_alive)
        self.notices = NoticeBoard()
        self.context = ContextBlocks(self._text_of, self.settings.context)
        self.engine = CompletionEngine(
            self.provider, self.settings, listener=_Listener(self), context=self.context
        )
        self.models = ModelManager(self.provider, num_ctx=self.num_ctx)
        #: Models chosen with ``ollama.selectModel``; they win over settings until the
        #: settings themselves name a different model.
        self.selected: dict[str, str] = {}
        self.background: set[asyncio.Task[Any]] = set()
        self.initialized = False
        #: Documents the client has asked inline completions for: there the ghost text is
        #: the suggestion, and automatic textDocument/completion requests are not served.
        self.inline_documents: set[str] = set()
        self._init_settings = self.settings
        self._configured = self.settings

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

    def apply_settings(self, result: settings.ParseResult) -> None:
        """Make ``result`` the live settings; warm the model up if it (or the host) changed."""
        # Everything is checked before anything is assigned: settings.parse refused a bad
        # host already, and resolving it here first means a failure cannot half-apply.
        endpoint = parse_endpoint(result.settings.host) if result.settings.host else self.env_host
        old, new = self.settings, result.settings
        new = self._with_selection(old, new)
        self.settings = new
        host_changed = endpoint != self.client.endpoint
        if host_changed:
            self.client.host = endpoint
            self.provider.invalidate()
            self.engine.forget_model()
        self.provider.keep_alive = new.keep_alive
        self.engine.configure(new)
        if self.host_problem is not None:
            self.show(self.host_problem)
            self.host_problem = None
        if self.notices.settings_errors(result.errors):
            bad = "; ".join(result.errors)
            self.show(f"ollama-lsp ignored invalid settings and kept the previous values: {bad}")
        if self.initialized and (host_changed or new.model != old.model):
            self.engine.warm_up()

    def _with_selection(self, old: settings.Settings, new: settings.Settings) -> settings.Settings:
        """Keep a palette selection unless the new settings name another model themselves."""
        changes = {}
        for field in ("model", "chat_model"):
            chosen = self.selected.get(field)
            if chosen is None:
                continue
            if getattr(new, field) != getattr(self._configured, field):
                del self.selected[field]  # the user changed the setting: it wins
            else:
                changes[field] = chosen
        self._configured = new
        return dataclasses.replace(new, **changes) if changes else new

    def select(self, field: str, model: str) -> None:
        """Make ``model`` the completion (``model``) or chat (``chat_model``) model."""
        self.selected[field] = model
        self.settings = dataclasses.replace(self.settings, **{field: model})
        self.engine.configure(self.settings)

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
            self.apply_settings(settings.parse(section, self._init_settings))

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

    # -- models -----------------------------------------------------------------------------

    async def offer_pull(
        self, model: str, message: str, then: Callable[[], Awaitable[Any]] | None = None
    ) -> None:
        """Ask (``window/showMessageRequest``) whether to pull ``model``; pull, then ``then``."""
        action = f"Pull {model}"
        try:
            choice = await self.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Warning,
                    message=message,
                    actions=[types.MessageActionItem(title=action)],
                )
            )
        except Exception as exc:  # clients without showMessageRequest still hear about it
            log.debug("showMessageRequest failed: %s", exc)
            self.show(message)
            return
        if choice is None or choice.title != action:
            return
        try:
            await self.models.pull(model, lambda: self.pull_with_progress(model))
            if then is not None:
                await then()
        except ProviderError as exc:
            self.show(exc.message, types.MessageType.Error)

    async def pull_with_progress(self, model: str, token: types.ProgressToken | None = None) -> str:
        """Pull ``model`` showing ``$/progress``; cancellable from the editor."""
        tracker = PullTracker()
        task = asyncio.current_task()
        async with WorkDone(
            self, f"Pulling {model}", token=token, cancellable=True,
            on_cancel=task.cancel if task else None,
        ) as progress:  # fmt: skip
            async for line in self.provider.pull_model(model):
                progress.report(tracker.update(line), tracker.percentage)
        self.notices.model_available(model)
        self.engine.forget_model(model)
        return "success"


class _Listener:
    """Turns engine conditions into messages, each condition told once (NoticeBoard)."""

    def __init__(self, ls: OllamaLanguageServer) -> None:
        self.ls = ls

    def unreachable(self, error: ProviderError) -> None:
        if self.ls.notices.unreachable(self.ls.client.host):
            self.ls.show(error.message)
        log.info("%s", error.message)

    def reachable(self) -> None:
        if self.ls.notices.reachable():
            self.ls.show(
                f"Ollama is reachable again at {self.ls.client.host}", types.MessageType.Info
            )

    def model_missing(self, error: ModelUnavailable) -> None:
        if self.ls.notices.model_missing(error.model):
            self.ls.run_task(self.ls.offer_pull(error.model, error.message))
        log.info("%s", error.message)

    def failed(self, error: ProviderError) -> None:
        log.warning("%s", error.message)  # reaches the editor's log as a Warning (``logs``)


def create_server(ollama_host: str | None = None) -> OllamaLanguageServer:
    """Build a server with every feature registered."""
    server = OllamaLanguageServer(ollama_host=ollama_host)

    @server.feature(types.INITIALIZE)
    def initialize(ls: OllamaLanguageServer, params: types.InitializeParams) -> None:
        logs.client_handler.connect(ls)  # from now on our log lines go to the editor's log
        install_line_documents(ls)
        folders = params.workspace_folders or []
        ls.context.set_root(folders[0].uri if folders else params.root_uri)
        result = settings.parse(params.initialization_options)
        ls._init_settings = result.settings
        ls.apply_settings(result)

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
            ls.apply_settings(settings.parse(params.settings["ollama"], ls.settings))
        await ls.pull_configuration()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: OllamaLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.context.opened(item.uri, unquote(urlparse(item.uri).path), item.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: OllamaLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        lines: list[int] = []
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = change.range.start.line
                lines.extend(range(start, start + change.text.count("\n") + 1))
        ls.context.changed(params.text_document.uri, lines)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: OllamaLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.context.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: OllamaLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.context.closed(params.text_document.uri)
        ls.engine.close_document(params.text_document.uri)
        ls.inline_documents.discard(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: OllamaLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        ls.inline_documents.add(params.text_document.uri)
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        wanted = ls.settings.completion.candidates if invoked else 1
        texts, cursor = await _complete(ls, params, invoked, params.work_done_token, wanted)
        position = types.Position(params.position.line, cursor.character)
        command = _accepted_command(params.text_document.uri)
        items = [
            types.InlineCompletionItem(
                insert_text=text, range=types.Range(position, position), command=command
            )
            for text in texts
        ]
        return types.InlineCompletionList(items=items)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=COMPLETION_TRIGGERS),
    )
    async def completion(
        ls: OllamaLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList:
        context = params.context
        invoked = context is None or context.trigger_kind == types.CompletionTriggerKind.Invoked
        if not invoked and params.text_document.uri in ls.inline_documents:
            # Typing a trigger character ("\n", ".") in an editor that also asks for inline
            # completions sends both requests at once, and the engine lets the newer one
            # supersede the older: they would cancel each other. The ghost text serves this
            # document; complete=False so the client does not re-ask on every keystroke.
            return types.CompletionList(is_incomplete=False, items=[])
        texts, cursor = await _complete(ls, params, invoked, params.work_done_token)
        text = texts[0] if texts else ""
        if not text:
            return types.CompletionList(is_incomplete=True, items=[])
        position = types.Position(params.position.line, cursor.character)
        return types.CompletionList(
            is_incomplete=True,
            items=[_completion_item(ls, text, position, params.text_document.uri)],
        )

    @server.feature(DID_SHOW_COMPLETION)
    def did_show_completion(ls: OllamaLanguageServer, params: Any) -> None:
        """Copilot's notification that a suggestion was really displayed."""
        ls.engine.counts.displayed_in(_item_uri(params))

    @server.feature(DID_PARTIALLY_ACCEPT_COMPLETION)
    def did_partially_accept(ls: OllamaLanguageServer, params: Any) -> None:
        """Copilot's notification that the user took part of a suggestion (word by word)."""
        uri = _item_uri(params)
        length = getattr(params, "acceptedLength", None)
        if uri is not None and isinstance(length, int) and not isinstance(length, bool):
            ls.engine.counts.accept_part(uri, length)

    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: OllamaLanguageServer, *args: Any) -> None:
        uri = args[0] if args else None
        if isinstance(uri, str):
            ls.engine.accepted(uri)

    from . import commands  # imports this module: registered last, after it is complete

    commands.register(server)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: OllamaLanguageServer, params: None) -> None:
        for task in list(ls.background):
            task.cancel()
        await ls.client.aclose()

    return server


async def _complete(
    ls: OllamaLanguageServer,
    params: types.TextDocumentPositionParams,
    invoked: bool,
    token: types.ProgressToken | None,
    candidates: int = 1,
) -> tuple[list[str], Cursor]:
    document = ls.document(params.text_document.uri)
    cursor = ls.cursor(document, params.position)
    query = Query(
        uri=document.uri,
        lines=document.line_list,
        line=cursor.line,
        column=cursor.column,
        invoked=invoked,
        path=document.path,
        language=document.language_id,
    )
    title = f"Generating with {ls.settings.model}…"
    async with WorkDone(ls, title, token=token, delay=PROGRESS_DELAY_S, on_start=True) as progress:

        def on_tokens(n: int) -> None:
            # The engine calls on_tokens(0) when it asks the model (starts or joins a generation),
            # so time spent waiting out the debounce or answered from the cache shows nothing.
            progress.start()
            if n:
                progress.report(f"{n} tokens")

        texts = await ls.engine.candidates(query, candidates, on_tokens=on_tokens)
    return texts, cursor


def _item_uri(params: Any) -> str | None:
    """The document of a suggestion in a Copilot notification: our command carries it."""
    item = getattr(params, "item", None)
    command = getattr(item, "command", None)
    arguments = getattr(command, "arguments", None) or []
    return arguments[0] if arguments and isinstance(arguments[0], str) else None


def _accepted_command(uri: str) -> types.Command:
    return types.Command(
        title="Accept Ollama suggestion", command=ACCEPTED_COMMAND, arguments=[uri]
    )


def _completion_item(
    ls: OllamaLanguageServer, text: str, position: types.Position, uri: str
) -> types.CompletionItem:
    """One menu item for editors without inline completion: the label is the first line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), text.strip())
    label = first if len(first) <= 60 else first[:59] + "…"
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Text,
        detail=f"Ollama · {ls.settings.model}",
        documentation=_documentation(ls, text),
        text_edit=types.TextEdit(range=types.Range(position, position), new_text=text),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=first,
        sort_text="0",
        preselect=True,
        command=_accepted_command(uri),
    )


def _documentation(ls: OllamaLanguageServer, text: str) -> types.MarkupContent:
    caps = ls.client_capabilities.text_document if ls.client_capabilities else None
    item = caps.completion.completion_item if caps and caps.completion else None
    formats = (item.documentation_format if item else None) or []
    if types.MarkupKind.Markdown in formats:
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{text}\n```")
    return types.MarkupContent(kind=types.MarkupKind.PlainText, value=text)


async def _announce(ls: OllamaLanguageServer) -> None:
    """Log which Ollama we talk to; a down Ollama is only logged here, not shown."""
    try:
        version = await ls.client.version()
    except ProviderError as exc:
        message = exc.message
    else:
        message = f"ollama-lsp {__version__} using Ollama {version} at {ls.client.host}"
    ls.log_to_client(message, types.MessageType.Info)
