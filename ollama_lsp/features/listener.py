"""What the user hears of the engine's conditions: each told once (``NoticeBoard``), the rest
only logged."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from ..provider import ModelUnavailable, ProviderError
from .pulls import offer_pull

if TYPE_CHECKING:
    from ..server import OllamaLanguageServer

log = logging.getLogger(__name__)


class Listener:
    """Turns engine conditions into messages, each condition told once per host or model."""

    def __init__(self, ls: OllamaLanguageServer) -> None:
        self.ls = ls

    def unreachable(self, error: ProviderError) -> None:
        host = getattr(error, "host", "") or self.ls.backend.host
        if self.ls.notices.unreachable(host):
            self.ls.show(error.message)
        log.info("%s", error.message)

    def reachable(self) -> None:
        if self.ls.notices.reachable():
            what = "Ollama" if self.ls.backend.api == "ollama" else "The server"
            self.ls.show(
                f"{what} is reachable again at {self.ls.backend.host}", types.MessageType.Info
            )

    def model_missing(self, error: ModelUnavailable) -> None:
        if self.ls.notices.model_missing(error.model):
            if self.ls.models.manages:
                self.ls.run_task(offer_pull(self.ls, error.model, error.message))
            else:
                self.ls.show(error.message)  # nothing to pull from an OpenAI-compatible server
        log.info("%s", error.message)

    def failed(self, error: ProviderError) -> None:
        log.warning("%s", error.message)  # reaches the editor's log as a Warning (``logs``)
