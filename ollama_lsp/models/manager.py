"""Model management behind the editor's commands: list, show, select, delete, status, chat.

Works on a ``ModelStore`` (Ollama's ``tags``/``show``/``ps``/``pull``/``delete``), and on the
``AiProvider`` for what every backend can do (chat, the models an OpenAI-compatible server
serves); it knows nothing about LSP: the server adds progress and messages around these calls.
Results are plain JSON-ready dicts with camelCase keys, because they go straight to editors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from ..ollama.errors import ModelNotFound
from ..provider import AiProvider, ChatMessage, ModelInfo, ModelStore, ProviderError
from .facts import ModelFacts, facts_of
from .memory import Candidate, MemoryInfo, advice, estimate, memory_info, preset_candidates
from .presets import PRESETS, Role, preset


def same_model(a: str, b: str) -> bool:
    """Ollama treats ``name`` and ``name:latest`` as one model."""
    return a == b or _with_tag(a) == _with_tag(b)


def _with_tag(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


@dataclass(frozen=True, slots=True)
class Selection:
    """What selecting a model would do, computed before anything changes."""

    name: str
    role: Role
    size: int
    needed: int
    warning: str | None


class ModelManager:
    """Lists, pulls, selects and deletes models for the commands: one place that knows what is
    installed, what fits in memory and which model is loaded, so handlers stay one call."""

    def __init__(
        self,
        store: ModelStore,
        provider: AiProvider,
        *,
        num_ctx: Callable[[], int],
        memory: Callable[[], MemoryInfo] = memory_info,
        forget: Callable[[str], None] = lambda _model: None,
    ) -> None:
        """``forget(model)`` is told when a model was pulled or deleted, so that what the
        engine learned of it (profile, prompt speed) is asked afresh."""
        self.store = store
        self._forget = forget
        self.provider = provider
        self._num_ctx = num_ctx
        self._memory = memory
        self._pulls: dict[str, asyncio.Task[str]] = {}

    @property
    def manages(self) -> bool:
        """False behind an OpenAI-compatible server: no pulls, loads or ``ps`` — the models
        are the ones it serves (``provider.list_models``). Asked each time: settings may
        switch ``api`` at any moment."""
        return bool(getattr(self.store, "available", True))

    async def installed(self) -> list[ModelInfo]:
        if not self.manages:
            return await self.provider.list_models()
        return await self.store.list_models()

    async def find(self, name: str) -> ModelInfo | None:
        return next((m for m in await self.installed() if same_model(m.name, name)), None)

    async def list_models(self, *, active: str, chat: str) -> list[dict[str, Any]]:
        """Installed models plus the presets not yet pulled, marked for the picker."""
        if not self.manages:
            return [
                _row(m.name, m.size, "", "", "", "", installed=True,
                     active=same_model(m.name, active), chat=same_model(m.name, chat),
                     loaded=True, fits=True)
                for m in await self.installed()
            ]  # fmt: skip
        installed, loaded = await asyncio.gather(self.installed(), self.store.running())
        available = self._memory().available
        rows = []
        for info in installed:
            running = next((m for m in loaded if same_model(info.name, m.name)), None)
            needed = running.size if running and running.size else await self._needs(info)
            rows.append(
                _row(info.name, info.size, info.details.parameter_size,
                     info.details.quantization_level, info.details.family, info.modified_at,
                     installed=True, active=same_model(info.name, active),
                     chat=same_model(info.name, chat), loaded=running is not None,
                     fits=running is not None or needed <= available, needed=needed)
            )  # fmt: skip
        for p in PRESETS:
            if not any(same_model(p.name, info.name) for info in installed):
                needed = estimate(p.size, p.facts, self._num_ctx())
                rows.append(
                    _row(p.name, p.size, p.parameter_size, p.quantization, p.family, "",
                         installed=False, active=same_model(p.name, active),
                         chat=same_model(p.name, chat), loaded=False, fits=needed <= available,
                         needed=needed, note=p.note)
                )  # fmt: skip
        return rows

    async def show(self, name: str) -> dict[str, Any]:
        info = await self.store.show(name)
        found = await self.find(name)
        return {
            "name": name,
            "size": found.size if found else None,
            "family": info.details.family,
            "parameterSize": info.details.parameter_size,
            "quantization": info.details.quantization_level,
            "contextLength": info.context_length,
            "capabilities": list(info.capabilities),
            "supportsInsert": info.supports_insert,
            "template": info.template,
            "parameters": info.parameters,
        }

    async def plan_selection(self, name: str, role: Role) -> Selection:
        """Check ``name`` is installed and estimate whether it fits; changes nothing."""
        found = await self.find(name)
        if found is None:
            raise ModelNotFound(name)
        if not self.manages:
            return Selection(found.name, role, found.size, 0, None)
        loaded, needed = await asyncio.gather(self.store.running(), self._needs(found))
        running = next((m for m in loaded if same_model(m.name, name)), None)
        available = self._memory().available
        if running is not None:  # already in memory: it fits, and Ollama says how much it takes
            return Selection(found.name, role, found.size, running.size or needed, None)
        warning = None
        if needed > available:
            warning = advice(name, needed, available, await self._candidates(), role)
        return Selection(found.name, role, found.size, needed, warning)

    async def select(
        self,
        name: str,
        role: Role,
        *,
        previous: str,
        other: str,
        unload_previous: bool,
        apply: Callable[[str], None],
        loading: Callable[[Selection], AbstractAsyncContextManager[Any]],
    ) -> tuple[Selection, str | None]:
        """Make ``name`` the ``role`` model: check, load (inside ``loading(plan)``, which shows
        the plan's warning and progress), then
        ``apply`` it, then free ``previous`` unless the other role still uses it.

        Nothing changes until the load succeeded, so a failed select leaves the previous model
        active. Returns the plan and the model unloaded, if any."""
        plan = await self.plan_selection(name, role)
        if self.manages:
            num_ctx = self._num_ctx() if role == "completion" else None
            async with loading(plan):
                await self.store.load_model(plan.name, num_ctx=num_ctx)
        apply(plan.name)
        unloaded = None
        if self.manages and unload_previous and previous not in (plan.name, other):
            try:
                await self.store.unload_model(previous)
                unloaded = previous
            except ProviderError:
                pass  # not installed or already gone: nothing to free
        return plan, unloaded

    async def delete(self, name: str) -> None:
        await self.store.delete(name)
        self._forget(name)

    async def pull(self, name: str, run: Callable[[], Any]) -> str:
        """One pull per model: a second request for the same model joins the first.

        ``run`` performs the pull and returns its status; when the pull itself is cancelled
        (the user pressed Cancel on its progress) the answer is ``"cancelled"``.
        """
        task = self._pulls.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(run())
            self._pulls[name] = task
            task.add_done_callback(lambda _: self._pulls.pop(name, None))
        try:
            status = await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current and current.cancelling()):
                return "cancelled"
            raise
        self._forget(name)
        return status

    def pulling(self, name: str) -> bool:
        task = self._pulls.get(name)
        return task is not None and not task.done()

    async def loaded(self) -> list[dict[str, Any]]:
        return [
            {"name": m.name, "size": m.size, "sizeVram": m.size_vram, "expiresAt": m.expires_at,
             "contextLength": m.context_length}
            for m in await self.store.running()
        ]  # fmt: skip

    async def chat(
        self, messages: Sequence[ChatMessage], model: str, on_text: Callable[[str], None]
    ) -> ChatMessage:
        parts: list[str] = []
        async for piece in self.provider.stream_chat(messages, model=model):
            parts.append(piece)
            on_text("".join(parts))
        return ChatMessage("assistant", "".join(parts))

    async def status(self) -> dict[str, Any]:
        """Reachability, version, loaded models and this machine's memory, for ``ollama.status``."""
        reachable, version = await self.reachable()
        loaded = await self.loaded() if reachable and self.manages else []
        mem = self._memory()
        return {
            "reachable": reachable,
            "version": version,
            "loaded": loaded,
            "memory": {"rss": mem.rss, "available": mem.available, "total": mem.total},
        }

    async def reachable(self) -> tuple[bool, str | None]:
        try:
            return True, await self.store.version()
        except ProviderError:
            return False, None

    async def _needs(self, info: ModelInfo) -> int:
        """What ``info`` takes loaded at the completion context (``memory.estimate``)."""
        return estimate(info.size, await self._facts(info.name), self._num_ctx())

    async def _facts(self, name: str) -> ModelFacts | None:
        known = preset(name)
        if known is not None:
            return known.facts
        try:
            return facts_of(await self.store.show(name))
        except ProviderError:
            return None

    async def _candidates(self) -> list[Candidate]:
        """The installed models and the presets, with what each takes: what advice may name.
        An installed model that fills in the middle counts as a completion model."""
        installed = await self.installed()
        mine = [Candidate(m.name, await self._role(m.name), await self._needs(m), True)
                for m in installed]  # fmt: skip
        presets = [c for c in preset_candidates(self._num_ctx())
                   if not any(same_model(c.name, m.name) for m in installed)]  # fmt: skip
        return mine + presets

    async def _role(self, name: str) -> Role:
        try:
            return "completion" if (await self.store.show(name)).supports_insert else "chat"
        except ProviderError:
            return "chat"


def _row(
    name: str,
    size: int,
    parameter_size: str,
    quantization: str,
    family: str,
    modified_at: str,
    *,
    installed: bool,
    active: bool,
    chat: bool,
    loaded: bool,
    fits: bool,
    needed: int | None = None,
    note: str = "",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "size": size,
        "parameterSize": parameter_size,
        "quantization": quantization,
        "family": family,
        "modifiedAt": modified_at or None,
        "installed": installed,
        "active": active,
        "activeChat": chat,
        "loaded": loaded,
        "fitsInMemory": fits,
        "estimatedBytes": needed,
    }
    if note:
        row["note"] = note
    return row
