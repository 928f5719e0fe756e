"""The ``ollama.*`` commands an editor's palette calls (``workspace/executeCommand``).

Handlers validate their arguments themselves (pygls would coerce ``5`` to ``"5"``), answer
plain JSON, and map failures to JSON-RPC errors a user can read: ``InvalidParams`` naming
the expected arguments, ``RequestFailed`` with Ollama's problem and what to do. Nothing is
half-done: a select that fails leaves the previous model active.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .features.pulls import offer_pull, pull_with_progress
from .models.manager import Selection
from .progress import WorkDone
from .provider import ChatMessage, ModelUnavailable, ProviderError

if TYPE_CHECKING:
    from .server import OllamaLanguageServer
else:
    # pygls resolves a command handler's annotations at dispatch (``typing.get_type_hints``,
    # since openlawlibrary/pygls#527, to structure the arguments), so the name must exist at
    # run time; the base class serves, and type checkers see the real one.
    from pygls.lsp.server import LanguageServer as OllamaLanguageServer

ROLES = {"completion": "model", "chat": "chat_model"}


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: the request was well-formed but could not be done."""

    CODE = -32803


def _expect(command: str, args: tuple[Any, ...], usage: str, lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        raise JsonRpcInvalidParams(f"{command} takes {usage}; got {len(args)} argument(s)")


def _name(command: str, args: tuple[Any, ...], usage: str) -> str:
    _expect(command, args, usage, 1, 1)
    return _string(command, args[0], usage)


def _string(command: str, value: Any, usage: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise JsonRpcInvalidParams(f"{command} takes {usage}; got {value!r}")
    return value.strip()


async def _guard(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except ProviderError as exc:
        raise RequestFailed(exc.message) from None


def register(server: OllamaLanguageServer) -> None:
    """Add every model command to ``server`` (and so to ``executeCommandProvider``)."""

    def command(name: str) -> Callable[[Callable[..., Any]], Any]:
        return server.command(name)

    @command("ollama.listModels")
    async def list_models(ls: OllamaLanguageServer, *args: Any) -> list[dict[str, Any]]:
        _expect("ollama.listModels", args, "no arguments", 0, 0)
        settings = ls.settings
        return await _guard(ls.models.list_models(active=settings.model, chat=settings.chat_model))

    @command("ollama.showModel")
    async def show_model(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        name = _name("ollama.showModel", args, "one argument: the model name (a string)")
        return await _guard(ls.models.show(name))

    @command("ollama.pullModel")
    async def pull_model(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        name = _name("ollama.pullModel", args, "one argument: the model name (a string)")
        status = await _guard(ls.models.pull(name, lambda: pull_with_progress(ls, name)))
        return {"name": name, "status": status}

    @command("ollama.selectModel")
    async def select_model(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        usage = 'the model name, and optionally "completion" (default) or "chat"'
        _expect("ollama.selectModel", args, usage, 1, 2)
        name = _string("ollama.selectModel", args[0], usage)
        role = args[1] if len(args) > 1 else "completion"
        if role not in ROLES:
            raise JsonRpcInvalidParams(f"ollama.selectModel takes {usage}; got role {role!r}")
        return await _guard(_select(ls, name, role))

    @command("ollama.deleteModel")
    async def delete_model(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        name = _name("ollama.deleteModel", args, "one argument: the model name (a string)")
        await _guard(ls.models.delete(name))
        return {"name": name, "status": "deleted"}

    @command("ollama.status")
    async def status(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        _expect("ollama.status", args, "no arguments", 0, 0)
        return await _guard(ls.status())

    @command("ollama.chat")
    async def chat(ls: OllamaLanguageServer, *args: Any) -> dict[str, Any]:
        usage = 'one argument: {"messages": [{"role": ..., "content": ...}], "model"?: ...}'
        _expect("ollama.chat", args, usage, 1, 1)
        request = args[0]
        messages = request.get("messages") if isinstance(request, dict) else None
        model = request.get("model", ls.settings.chat_model) if isinstance(request, dict) else None
        valid = (
            isinstance(messages, list)
            and messages
            and all(
                isinstance(m, dict)
                and isinstance(m.get("role"), str)
                and isinstance(m.get("content"), str)
                for m in messages
            )
        )
        if not valid or not isinstance(model, str) or not model:
            raise JsonRpcInvalidParams(f"ollama.chat takes {usage}")
        history = [ChatMessage(m["role"], m["content"]) for m in messages]  # type: ignore[union-attr]
        async with WorkDone(ls, f"Chatting with {model}") as progress:
            answer = await _guard(
                ls.models.chat(history, model, lambda text: progress.report(text[-200:]))
            )
        return {"model": model, "message": answer.to_json()}


async def _select(ls: OllamaLanguageServer, name: str, role: str) -> dict[str, Any]:
    field = ROLES[role]
    settings = ls.settings
    previous = getattr(settings, field)
    other = settings.chat_model if role == "completion" else settings.model

    @asynccontextmanager
    async def loading(plan: Selection) -> Any:
        if plan.warning:
            ls.show(plan.warning)
        async with WorkDone(ls, f"Loading {plan.name}") as progress:
            progress.report("loading into memory")
            yield

    try:
        plan, unloaded = await ls.models.select(
            name, role, previous=previous, other=other,  # type: ignore[arg-type]
            unload_previous=settings.unload_previous, loading=loading,
            apply=lambda model: ls.configuration.select(field, model),
        )  # fmt: skip
    except ModelUnavailable as exc:
        # Nothing changes now; the user may pull it, and the selection then completes.
        if ls.models.manages:
            ls.run_task(offer_pull(ls, name, exc.message, lambda: _select(ls, name, role)))
        raise
    return {
        "model": ls.settings.model,
        "chatModel": ls.settings.chat_model,
        "selected": plan.name,
        "role": role,
        "unloaded": unloaded,
        "warning": plan.warning,
        "estimatedBytes": plan.needed,
    }
