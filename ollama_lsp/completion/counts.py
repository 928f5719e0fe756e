"""What the user did with the suggestions: shown, accepted, partially accepted, dismissed.

Counted locally, for ``ollama.status`` and the editors' status views; nothing leaves the
machine. "Shown" is what the server answered with a suggestion, or — when the editor says so
with Copilot's ``textDocument/didShowCompletion`` — what it really displayed. A suggestion is
settled once: accepted (the item's command ran), or dismissed when the next request in its
document is not the user typing through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SuggestionCounts:
    answered: int = 0
    displayed: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    accepted_chars: int = 0
    dismissed: int = 0
    #: the suggestion on show in each document, not settled yet
    _open: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> int:
        """Displayed when the editor reports it, else answered with a suggestion."""
        return self.displayed or self.answered

    @property
    def acceptance_rate(self) -> float | None:
        return (self.accepted / self.shown) if self.shown else None

    def answer(self, uri: str, text: str, *, typed_through: bool) -> None:
        """A request in ``uri`` was answered with ``text`` (``""``: nothing shown)."""
        if typed_through and text:
            self._open[uri] = text  # the same suggestion, still on show
            return
        if self._open.pop(uri, None) is not None:
            self.dismissed += 1
        if text:
            self.answered += 1
            self._open[uri] = text

    def displayed_in(self, uri: str | None) -> None:
        self.displayed += 1

    def accept(self, uri: str) -> None:
        self.accepted += 1
        text = self._open.pop(uri, None)
        if text is not None:
            self.accepted_chars += len(text)

    def accept_part(self, uri: str, length: int) -> None:
        self.partially_accepted += 1
        self.accepted_chars += max(0, length)
        text = self._open.get(uri)
        if text is not None and 0 < length < len(text):
            self._open[uri] = text[length:]

    def forget(self, uri: str) -> None:
        self._open.pop(uri, None)

    def to_json(self) -> dict[str, object]:
        rate = self.acceptance_rate
        return {
            "shown": self.shown,
            "answered": self.answered,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "acceptedChars": self.accepted_chars,
            "dismissed": self.dismissed,
            "acceptanceRate": None if rate is None else round(rate, 3),
        }
