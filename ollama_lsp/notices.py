"""Decide when to tell the user something, so that a condition is reported once, not per keystroke.

A stopped Ollama makes *every* completion fail; the user must hear about it exactly once,
hear nothing more while it stays down, and hear that it is back when it recovers. The same
holds for a missing model and for bad settings. This module only decides; the server sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NoticeBoard:
    """Remembers which conditions the user has already been told about."""

    _down_host: str | None = None
    _missing_models: set[str] = field(default_factory=set)
    _settings_errors: tuple[str, ...] = ()

    def unreachable(self, host: str) -> bool:
        """True when the user should be told that ``host`` is unreachable (first failure)."""
        if self._down_host == host:
            return False
        self._down_host = host
        return True

    def reachable(self) -> bool:
        """True when Ollama was down and now answers: say it is back, once."""
        was_down = self._down_host is not None
        self._down_host = None
        return was_down

    @property
    def is_down(self) -> bool:
        return self._down_host is not None

    def model_missing(self, model: str) -> bool:
        """True the first time ``model`` turns out not to be installed."""
        if model in self._missing_models:
            return False
        self._missing_models.add(model)
        return True

    def model_available(self, model: str) -> None:
        """After a pull (or the user installs it), a later absence is news again."""
        self._missing_models.discard(model)

    def settings_errors(self, errors: tuple[str, ...]) -> bool:
        """True when there are bad settings the user has not yet been told about."""
        new = errors != self._settings_errors
        self._settings_errors = errors
        return new and bool(errors)
