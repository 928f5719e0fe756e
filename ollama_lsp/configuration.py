"""The live settings: where each value came from, and who must hear when a part changes.

Three sources make the settings the server runs with. ``initializationOptions`` give the
*base*; ``workspace/configuration`` answers with the whole section, so it overlays that base
(a key the user removed goes back to the base, not to what it was a moment ago);
``didChangeConfiguration`` may carry only what changed, so it overlays what the client last
configured. On top, a model picked from the palette (``ollama.selectModel``) wins until the
settings themselves name a *different* model: re-sending the same settings, or changing an
unrelated key, must not undo the user's pick.

Parts of the server subscribe to the value they use (``"model"``, ``"completion"``,
``"hosts"``, ``""`` for everything) and hear ``(previous, value)`` once per change of *that*
value, as esbonio's ``configuration.subscribe`` does; so no caller has to diff settings or
remember to push them. Pure: no LSP, no I/O beyond what ``settings.parse`` checks.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .settings import ParseResult, Settings, parse

log = logging.getLogger(__name__)

#: Called as ``callback(previous, value)`` after the subscribed value changed.
Callback = Callable[[Any, Any], None]

#: The settings a palette selection may override.
SELECTABLE = ("model", "chat_model")


@dataclass(eq=False, slots=True)
class _Subscription:
    path: str
    callback: Callback
    active: bool = True


class Configuration:
    """The effective settings, rebuilt from the client's settings and the palette selections."""

    def __init__(self, settings: Settings | None = None) -> None:
        start = settings or Settings()
        #: What the server runs with: the configured settings plus the palette selections.
        self.effective = start
        self._base = start
        self._configured = start
        self._selected: dict[str, str] = {}
        self._subscriptions: list[_Subscription] = []
        self._pending: deque[tuple[Settings, Settings]] = deque()
        self._notifying = False

    @property
    def configured(self) -> Settings:
        """The settings as the client last configured them, without palette selections."""
        return self._configured

    @property
    def selected(self) -> dict[str, str]:
        """The palette selections still in force, by attribute (``model``, ``chat_model``)."""
        return dict(self._selected)

    def initialize(self, raw: Any) -> ParseResult:
        """Take ``initializationOptions`` (any shape): the base later configuration overlays."""
        result = parse(raw)
        self._base = result.settings
        return self._configure(result)

    def update(self, raw: Any, *, from_base: bool) -> ParseResult:
        """Overlay ``raw`` on the base (``workspace/configuration``, a whole section) or on the
        client's last configuration (``didChangeConfiguration``, possibly a part of it).

        The result holds the new effective settings and the errors, one per bad key, which
        kept their previous values; the caller shows the errors.
        """
        result = parse(raw, self._base if from_base else self._configured)
        return self._configure(result)

    def select(self, field: str, model: str) -> None:
        """Make ``model`` the completion (``"model"``) or chat (``"chat_model"``) model."""
        if field not in SELECTABLE:
            raise ValueError(f"only {' or '.join(SELECTABLE)} can be selected, not {field!r}")
        self._selected[field] = model
        self._set(replace(self.effective, **{field: model}))

    def subscribe(self, path: str, callback: Callback) -> Callable[[], None]:
        """Call ``callback(previous, value)`` after each change of the value at ``path``.

        ``path`` is a dotted attribute path (``"completion.max_tokens"``; ``""``: the whole
        settings). Callbacks run in subscription order once the new settings are in
        ``effective``; one that raises is logged and the others still run. A change made by a
        callback is delivered after the current one, so everyone hears the changes in order.
        Returns a function that ends the subscription.
        """
        _value_at(self.effective, path)  # a typo in a path fails here, not silently later
        subscription = _Subscription(path, callback)
        self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            subscription.active = False
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

        return unsubscribe

    def _configure(self, result: ParseResult) -> ParseResult:
        new = self._with_selection(result.settings)
        self._set(new)
        return ParseResult(new, result.errors)

    def _with_selection(self, new: Settings) -> Settings:
        """Keep a palette selection unless the new settings name another model themselves."""
        changes = {}
        for field in SELECTABLE:
            chosen = self._selected.get(field)
            if chosen is None:
                continue
            if getattr(new, field) != getattr(self._configured, field):
                del self._selected[field]  # the user changed the setting: it wins
            else:
                changes[field] = chosen
        self._configured = new
        return replace(new, **changes) if changes else new

    def _set(self, new: Settings) -> None:
        if new == self.effective:
            return
        self._pending.append((self.effective, new))
        self.effective = new
        if self._notifying:
            return  # a callback changed the settings: the loop below delivers it next
        self._notifying = True
        try:
            while self._pending:
                self._notify(*self._pending.popleft())
        finally:
            self._notifying = False

    def _notify(self, old: Settings, new: Settings) -> None:
        for subscription in list(self._subscriptions):
            if not subscription.active:
                continue
            previous, value = _value_at(old, subscription.path), _value_at(new, subscription.path)
            if previous == value:
                continue
            try:
                subscription.callback(previous, value)
            except Exception:
                log.exception(
                    "a subscriber to the %r settings failed (the others still ran)",
                    subscription.path or "whole",
                )


def _value_at(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split(".") if path else ():
        if part.startswith("_") or not hasattr(value, part) or callable(getattr(value, part)):
            raise ValueError(
                f"no setting {path!r}: use attribute names, such as 'completion.max_tokens'"
            )
        value = getattr(value, part)
    return value
