"""The JSON-RPC layer under the server: pygls's protocol, with the gaps a long run finds closed.

pygls 2.1.1 (``pygls/protocol/json_rpc.py``, ``protocol/language_server.py``) is right for
the messages editors usually send, and wrong in ways that only show over hours or with an
odd client. Each fix is one override here, so that the handlers in ``server`` stay plain:

* **Bookkeeping leak.** ``_execute_handler`` files every generator handler (all built-in
  notification handlers: didOpen/didChange/didClose...) and every user hook those
  generators call under a fresh ``uuid4`` in ``_request_futures`` and never removes it:
  ~1.9 KB kept per keystroke, forever. Requests are removed by ``_send_handler_result``;
  everything else is removed here when it is done. (Upstream: the generator dispatch of
  openlawlibrary/pygls#516, released in 2.0; no issue filed for it as of 2.1.1. The same
  dict and ``_result_types`` also keep requests the client never answers: pygls#608.)
* **Malformed messages.** A request whose params do not fit its type (``line: -1``, no
  ``context`` on inlineCompletion, ``arguments: 5``) raises inside pygls's JSON object hook,
  so it gets *no response* and the user gets an "Error in server: Invalid Params" popup.
  Here it is answered with InvalidParams naming the bad fields, and only logged.
* **Lifecycle.** Requests before ``initialize`` get ServerNotInitialized (-32002), not a
  traceback; requests after ``shutdown`` get InvalidRequest, as the spec says, instead of
  silence; notifications in either state are dropped (``exit`` excepted).
* ``shutdown`` cancels the other pending futures while iterating the dict that their
  callbacks remove themselves from; it iterates a copy here.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from inspect import Parameter
from typing import Any

import cattrs
from lsprotocol import types
from pygls.constants import PARAM_LS
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.language_server import (
    _get_handler_params_annotations,
    _prepare_command_arguments,
)

log = logging.getLogger(__name__)

SERVER_NOT_INITIALIZED = -32002


class JsonRpcServerNotInitialized(JsonRpcException):
    """LSP's ServerNotInitialized: a request arrived before ``initialize``."""

    CODE = SERVER_NOT_INITIALIZED


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that could not be structured: a request is answered with ``error``, a
    response fails the request it answers, a notification is only logged."""

    msg_id: Any
    method: str | None
    error: JsonRpcException


class OllamaProtocol(LanguageServerProtocol):
    """``LanguageServerProtocol`` that always answers, never leaks, and never pops up for
    a client's mistake."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self._shutdown_id: Any = None
        self._plain_commands: dict[Any, bool] = {}

    # -- bookkeeping ------------------------------------------------------------------------

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(partial(self._forget, msg_id))

    def _forget(self, msg_id: Any, future: Future[Any] | asyncio.Future[Any]) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    async def request(self, method: str, params: Any, wait_s: float) -> Any:
        """Ask the client, waiting at most ``wait_s`` s; ``TimeoutError`` if it never answers.

        pygls waits forever for an answer and keeps the pending future (and its result type,
        openlawlibrary/pygls#608) if none comes; a client that ignores a request must cost
        neither a hung handler nor memory.
        """
        msg_id = str(uuid.uuid4())
        future = self.send_request_async(method, params, msg_id=msg_id)
        try:
            return await asyncio.wait_for(future, wait_s)
        finally:
            self._request_futures.pop(msg_id, None)
            self._result_types.pop(msg_id, None)

    # -- malformed messages -----------------------------------------------------------------

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            method = data.get("method") if isinstance(data.get("method"), str) else None
            detail = _validation_detail(exc.__cause__)
            error = JsonRpcInvalidParams(f"Invalid params for {method}: {detail}")
            msg_id = data.get("id")
            return Rejected(msg_id if isinstance(msg_id, int | str) else None, method, error)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Rejected):
            self._reject(message)
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if method == types.INITIALIZE:
            self.initialize_received = True
        elif method is not None and method != types.EXIT:
            if not self.initialize_received:
                if is_request:
                    self._refuse(message.id, JsonRpcServerNotInitialized(
                        f"{method} before initialize: send initialize first"
                    ))  # fmt: skip
                else:
                    log.info("dropped %s: it came before initialize", method)
                return
            if self._shutdown and is_request:
                self._refuse(message.id, JsonRpcInvalidRequest(
                    f"{method} after shutdown: the server only accepts exit now"
                ))  # fmt: skip
                return
            if method == types.SHUTDOWN and is_request:
                self._shutdown_id = message.id
        if method is None or message.jsonrpc != self.VERSION or self._shutdown:
            super().handle_message(message)  # responses, odd versions, after shutdown: pygls's way
        elif is_request:
            contextvars.copy_context().run(self._handle_request, message.id, method, message.params)
        else:
            contextvars.copy_context().run(self._handle_notification, method, message.params)

    # -- the hot path -----------------------------------------------------------------------
    #
    # pygls tells requests from notifications with ``isinstance`` against runtime-checkable
    # Protocols (``RPCRequest``...), which inspects the class's attributes on every check:
    # ~50 µs per request and ~100 µs per keystroke's didChange on a laptop. The dispatch
    # above decides by the attributes directly, as pygls then does anyway.
    #
    # pygls serialises a response with ``json.dumps(default=cattrs unstructure)``: ~60 µs
    # for one inline item. Inline completion answers, the one hot response, are written
    # here field by field (``_inline_list``) — the same JSON, which a test holds against
    # cattrs's; anything unusual falls back to pygls.

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        if error is None and type(result) is types.InlineCompletionList:
            fast = _inline_list(result)
            if fast is not None:
                self._result_types.pop(msg_id, None)
                self._send_data({"id": msg_id, "jsonrpc": self.VERSION, "result": fast})
                return
        super()._send_response(msg_id, result, error)

    def _reject(self, message: Rejected) -> None:
        log.warning("malformed message: %s", message.error.message)
        if message.msg_id is None:
            return
        if message.method is not None:
            self._send_response(message.msg_id, error=message.error.to_response_error())
            return
        self._result_types.pop(message.msg_id, None)
        pending = self._request_futures.pop(message.msg_id, None)
        if pending is not None and not pending.done():
            pending.set_exception(message.error)

    def _refuse(self, msg_id: Any, error: JsonRpcException) -> None:
        log.info("refused request %s: %s", msg_id, error.message)
        self._send_response(msg_id, error=error.to_response_error())

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:
        """pygls's executeCommand, without re-reading the handler's signature on every call.

        pygls calls ``typing.get_type_hints`` and ``inspect.signature`` per command (~60 µs,
        paid by every accepted suggestion). Handlers of the ``(ls, *args)`` form, as all of
        ours are (they validate their own arguments), take the arguments as they came; any
        other form is prepared by pygls, as before.
        """
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(
                ValueError(f"Command name {params.command!r} is not defined")
            )
        kwargs: dict[str, Any] = {}
        if self._takes_args_as_sent(handler):
            args = tuple(params.arguments or ())
        else:
            try:
                args, kwargs = _prepare_command_arguments(handler, params, self._converter)
            except Exception as exc:
                raise JsonRpcInvalidParams.of(exc) from exc
        result = yield handler, args, kwargs
        return result

    def _takes_args_as_sent(self, handler: Any) -> bool:
        known = self._plain_commands.get(handler)
        if known is None:
            parameters = list(_get_handler_params_annotations(handler)[0].values())
            if parameters and parameters[0].name == PARAM_LS:
                parameters = parameters[1:]
            known = len(parameters) == 1 and parameters[0].kind is Parameter.VAR_POSITIONAL
            self._plain_commands[handler] = known
        return known

    # -- shutdown ---------------------------------------------------------------------------

    async def settle_shutdown(self, wait_s: float) -> None:
        """Wait (at most ``wait_s`` s) for a ``shutdown`` still being handled.

        A client that sends ``exit`` right behind ``shutdown`` (a script, a file of messages)
        must still get its answer, and the exit code that follows a shutdown.
        """
        future = self._request_futures.get(self._shutdown_id)
        if future is None or future.done():
            return
        waiter = asyncio.wrap_future(future) if isinstance(future, Future) else future
        with contextlib.suppress(Exception, asyncio.CancelledError):  # timed out or failed
            await asyncio.wait_for(asyncio.shield(waiter), wait_s)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Any:
        """pygls's shutdown, cancelling from a copy of the pending futures."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None


def _inline_list(result: types.InlineCompletionList) -> dict[str, Any] | None:
    """``result`` as cattrs would unstructure it, or ``None`` if it holds anything unusual."""
    items = []
    for item in result.items:
        if not isinstance(item.insert_text, str):
            return None  # a snippet (StringValue): pygls's way
        out: dict[str, Any] = {"insertText": item.insert_text}
        if item.filter_text is not None:
            out["filterText"] = item.filter_text
        if item.range is not None:
            start, end = item.range.start, item.range.end
            out["range"] = {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            }
        if item.command is not None:
            command = item.command
            out["command"] = {"title": command.title, "command": command.command}
            if command.tooltip is not None:
                out["command"]["tooltip"] = command.tooltip
            if command.arguments is not None:
                if not all(isinstance(a, str | int | float | bool) for a in command.arguments):
                    return None
                out["command"]["arguments"] = list(command.arguments)
        items.append(out)
    return {"items": items}


def _validation_detail(error: BaseException | None) -> str:
    """cattrs's account of what did not fit (``invalid value @ $.params.position``)."""
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error))
    return str(error) if error else "could not read the message"
