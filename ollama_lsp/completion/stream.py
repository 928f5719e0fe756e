"""Stop the stream as soon as the suggestion is known, consistently with ``finalize``.

Without it the engine would wait for ``num_predict`` tokens that are generated, paid for in
engine time, then thrown away. ``feed`` answers True once no further text could change what
``finalize`` shows: a stop string arrived; the answer left what token healing needs it to
start with (hopeless: it will be ``""``); the line or block rules of ``endings`` are final;
or a single line hit its length or repetition limit. ``text`` is then what to pass to
``finalize`` (the answer so far, up to its stop string, and for the line and block rules
only the lines they keep).
"""

from __future__ import annotations

from . import special
from .endings import MAX_LINES, block_end, limit_lines, one_line
from .filters import drop_extra_leading_space, first_stop
from .healing import may_rewrite, rewrite_end
from .spot import Spot


class StreamCutter:
    """Accumulates streamed text; ``feed`` returns True once the suggestion is complete."""

    def __init__(self, spot: Spot, *, max_lines: int = MAX_LINES) -> None:
        self.spot = spot
        self.max_lines = max_lines
        self.text = ""
        self.done = False
        self._raw = ""
        self._open_line = 0

    @property
    def partial(self) -> str:
        """The suggestion streamed so far as the user would see it: healed text stripped,
        special strings restored (``""`` while the healed text is still arriving). What a
        request typed-through an unfinished generation compares with what was typed."""
        end = rewrite_end(self.text, self.spot.healed, lenient=self.spot.lenient_heal)
        if end is None or end >= len(self.text):
            return ""
        return special.restore(self.text[end:])

    def feed(self, piece: str) -> bool:
        """Add ``piece``; True once the suggestion is complete (or can only be ``""``)."""
        if self.done:
            return True
        self._raw += piece
        end = first_stop(self._raw, self.spot.stop)
        self.text = self._raw if end is None else self._raw[:end]
        self.done = end is not None
        healed, lenient = self.spot.healed, self.spot.lenient_heal
        if not may_rewrite(self.text, healed, lenient=lenient):
            self.done = True  # it can no longer begin with the healed text
            return True
        end = rewrite_end(self.text, healed, lenient=lenient) if healed else 0
        if end is None or (healed and end >= len(self.text)):
            return self.done
        body = special.restore(self.text[end:])
        body = drop_extra_leading_space(body, self.spot)
        keep = self._block(body) if self.spot.multiline else self._line(body)
        if keep is not None:
            # healing, restoring and the leading-space fix never touch a newline, so line n
            # of the body is line n of the answer
            self.text = "\n".join(self.text.split("\n")[:keep])
            self.done = True
        elif limit_lines(body, start=self._open_line).final:
            self.done = True
        self._open_line = body.count("\n")  # the lines before it are complete and checked
        return self.done

    def _block(self, body: str) -> int | None:
        return block_end(body, self.spot, final=self.done, max_lines=self.max_lines)

    def _line(self, body: str) -> int | None:
        cut = one_line(body, self.spot)
        if cut.final and not cut.keep:
            self.done = True  # nothing to show, whatever follows
        return cut.keep.count("\n") + 1 if cut.final and cut.keep else None
