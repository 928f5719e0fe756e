"""Pulling a model with ``$/progress``, and offering a pull when a model is missing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..models.pulling import PullTracker
from ..progress import WorkDone
from ..provider import ProviderError

if TYPE_CHECKING:
    from ..server import OllamaLanguageServer

log = logging.getLogger(__name__)


async def offer_pull(
    ls: OllamaLanguageServer,
    model: str,
    message: str,
    then: Callable[[], Awaitable[Any]] | None = None,
) -> None:
    """Ask (``window/showMessageRequest``) whether to pull ``model``; pull, then ``then``."""
    action = f"Pull {model}"
    try:
        choice = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=message,
                actions=[types.MessageActionItem(title=action)],
            )
        )
    except Exception as exc:  # clients without showMessageRequest still hear about it
        log.debug("showMessageRequest failed: %s", exc)
        ls.show(message)
        return
    if choice is None or choice.title != action:
        return
    try:
        await ls.models.pull(model, lambda: pull_with_progress(ls, model))
        if then is not None:
            await then()
    except ProviderError as exc:
        ls.show(exc.message, types.MessageType.Error)


async def pull_with_progress(
    ls: OllamaLanguageServer, model: str, token: types.ProgressToken | None = None
) -> str:
    """Pull ``model`` showing ``$/progress``; cancellable from the editor."""
    tracker = PullTracker()
    task = asyncio.current_task()
    async with WorkDone(
        ls, f"Pulling {model}", token=token, cancellable=True,
        on_cancel=task.cancel if task else None,
    ) as progress:  # fmt: skip
        async for line in ls.models.store.pull_model(model):
            progress.report(tracker.update(line), tracker.percentage)
    ls.notices.model_available(model)
    return "success"
