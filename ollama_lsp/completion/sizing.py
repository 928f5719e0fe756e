"""Choosing the prompt to send: the largest windows the model can evaluate in time.

A model evaluates new prompt at a learned speed (``budget.PromptSpeed``), and its slot
already holds the last prompt (``budget.SlotMemory``): only what differs costs time. So the
prefix window walks down a ladder of sizes until the new part fits ``promptLatencyMs``. With
workspace context, the windows with the document's context block are tried first
(affordable once a pause has prefilled them), then the same windows without it.

The window a model holds is **kept**: the next prompt in the same document starts at the same
line with the same context block, and grows with what is typed (up to the model's full
window), as long as that stays affordable — so while the user types in one place every
prompt starts byte-identical and only the typed text (and, after a new line, the short
suffix) is evaluated, and the window grows as the user writes instead of sliding.

No LSP and no HTTP here: the actual prompt text comes from ``prompt.assemble``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..context.blocks import ContextBlocks, placement
from ..settings import Settings
from .budget import BACKGROUND_STEP_S, MIN_PREFIX_CHARS, MIN_STEP_CHARS, prefix_ladder
from .context import outer_line
from .excerpt import Excerpt
from .meters import ModelMeters
from .prompt import Assembly, Profile, assemble


class Where(Protocol):
    """Which document a place is in (a ``Query`` or a remembered ``Place``)."""

    @property
    def uri(self) -> str: ...

    @property
    def path(self) -> str | None: ...

    @property
    def language(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the prompt last chosen for a model began: its document, the document line its
    prefix starts at, and the context block before it."""

    uri: str
    line: int
    block: str


class PromptSizer:
    """Assembles the prompt for a place at the size the model can afford right now."""

    def __init__(
        self,
        meters: ModelMeters,
        settings: Callable[[], Settings],
        context: ContextBlocks | None,
    ) -> None:
        self._meters = meters
        self._settings = settings
        self._context = context
        self._anchors: dict[str, Anchor] = {}
        #: Where the wider window a pause started growing begins (``wider``), per model.
        self._wide: dict[str, Anchor] = {}

    def cold_chars(self, model: str) -> int:
        """Characters of new prompt the model evaluates within the latency target."""
        latency_s = self._settings().completion.prompt_latency_ms / 1000
        return self._meters.speed(model).affordable_chars(latency_s)

    def cheap(self, a: Assembly) -> bool:
        """Whether the model evaluates what is new in ``a``'s prompt within the target."""
        model = a.request.model
        return self._meters.slot(model).cost(a.request.prompt) <= self.cold_chars(model)

    def step_chars(self, model: str) -> int:
        """Characters of new prompt the model evaluates in one background step
        (``BACKGROUND_STEP_S``): what a real request may have to wait behind."""
        return max(MIN_STEP_CHARS, self._meters.speed(model).affordable_chars(BACKGROUND_STEP_S))

    def assemble(
        self, profile: Profile, cut: Excerpt, where: Where, *, refresh: bool = False
    ) -> Assembly:
        """The largest affordable prompt: fits the latency target given what the slot holds."""
        (a, block), _ = self._choose(profile, cut, where, refresh=refresh)
        anchor = self._anchor(cut, where, a, block)
        self._anchors[profile.model] = anchor
        wide = self._wide.get(profile.model)
        if wide is not None and (wide.uri != anchor.uri or wide.line >= anchor.line):
            del self._wide[profile.model]  # in use now, or no longer wider
        return a

    def wider(self, profile: Profile, cut: Excerpt, where: Where) -> Assembly | None:
        """The window a pause may prefill (None when there is none wider): the one the last
        pause started growing, while it is wider than what ``assemble`` affords now; else the
        next larger ladder window, one rung (evaluated within a pause or two, about twice the
        latency target, so the next request uses it), moved down to its first outer line
        (``context.outer_line``).

        Why kept: a few steps grow each pause, so a wide window is whole after several; one
        chosen afresh at each pause slid down with the typing and started again (in the
        editor loop, 4-8 s of steps a session that no request used). Why an outer line: a
        window that begins inside the function above shows the model a fragment of it
        (``context.OUTER_SHARE``)."""
        model = profile.model
        (now, _), rung = self._choose(profile, cut, where, refresh=True)
        size = len(now.request.prompt)
        suffix = self._suffix_chars(profile)
        held = self._from(profile, cut, where, self._wide.get(model), suffix)
        if held is not None and len(held[0].request.prompt) > size:
            return held[0]
        self._wide.pop(model, None)
        if rung is None:
            return None
        a, block = rung
        line_start = cut.text.rfind("\n", 0, cut.offset) + 1
        start = outer_line(cut.text, a.windows.prefix_start, line_start)
        if start != a.windows.prefix_start:
            a = self._at(profile, cut, where, 0, suffix, block, start=start)
            if len(a.request.prompt) <= size:
                return None  # the next outer line is where the window held starts already
        self._wide[model] = self._anchor(cut, where, a, block)
        return a

    def drop_wider(self, model: str) -> None:
        """The wider window will not be prefilled (it grew too big for a pause): the next
        pause chooses afresh."""
        self._wide.pop(model, None)

    @staticmethod
    def _anchor(cut: Excerpt, where: Where, a: Assembly, block: str) -> Anchor:
        return Anchor(
            where.uri, cut.first_line + cut.text.count("\n", 0, a.windows.prefix_start), block
        )

    def _choose(
        self, profile: Profile, cut: Excerpt, where: Where, *, refresh: bool
    ) -> tuple[tuple[Assembly, str], tuple[Assembly, str] | None]:
        """The prompt to send, and the next larger ladder window, each with its context block.

        The window kept (where the last prompt began), or the wider one a pause has grown
        (``wider``: once whole, its slot is the main one and it costs only the typed text),
        when it is affordable and not smaller than the ladder's choice; else the first
        affordable ladder window in order of preference (the smallest when none).
        """
        cold = self.cold_chars(profile.model)
        slot = self._meters.slot(profile.model)
        ladder = prefix_ladder(profile.budget.max_prefix_chars, cold)
        suffix = self._suffix_chars(profile)
        block = self._block(profile, cut, where, refresh=refresh)
        found: tuple[Assembly, str] | None = None
        before = previous = None
        for context in (block, "") if block else ("",):
            for size in ladder:
                a = self._at(profile, cut, where, size - len(context), suffix, context)
                if slot.cost(a.request.prompt) <= cold:
                    found, before = (a, context), previous
                    break
                previous = (a, context)
            if found is not None:
                break
        if found is None:
            assert previous is not None
            found = (previous[0], "")
        for anchor in (self._anchors.get(profile.model), self._wide.get(profile.model)):
            kept = self._from(profile, cut, where, anchor, suffix)
            if (
                kept is not None
                and slot.cost(kept[0].request.prompt) <= cold
                and len(kept[0].request.prompt) >= len(found[0].request.prompt)
            ):
                found = kept
        size = len(found[0].request.prompt)
        return found, before if before and len(before[0].request.prompt) > size else None

    def _from(
        self,
        profile: Profile,
        cut: Excerpt,
        where: Where,
        anchor: Anchor | None,
        suffix: int,
    ) -> tuple[Assembly, str] | None:
        """The window starting at ``anchor``'s line with its block, if this is the same
        document and it still fits the model's full window."""
        if anchor is None or anchor.uri != where.uri or anchor.line < cut.first_line:
            return None
        start = -1
        for _ in range(anchor.line - cut.first_line):
            start = cut.text.find("\n", start + 1, cut.offset)
            if start < 0:
                return None  # the line is at or after the cursor
        start += 1
        if cut.offset - start + len(anchor.block) > profile.budget.max_prefix_chars:
            return None  # grown past the full window: the ladder chooses again
        a = self._at(profile, cut, where, 0, suffix, anchor.block, start=start)
        return a, anchor.block

    def _suffix_chars(self, profile: Profile) -> int:
        ladder = prefix_ladder(profile.budget.max_prefix_chars, self.cold_chars(profile.model))
        return max(64, ladder[-1] // 3)

    def _block(self, profile: Profile, cut: Excerpt, where: Where, *, refresh: bool) -> str:
        """The document's context block (kept between pauses), within a fair share of the
        prompt: at most a third of the largest window."""
        settings = self._settings().context
        if self._context is None or not settings.enabled:
            return ""
        first = cut.first_line
        return self._context.block(
            where.uri,
            family=profile.template.family,
            language=where.language,
            path=where.path,
            prefix_tail=cut.text[max(0, cut.offset - 2400) : cut.offset],
            window=(first, first + cut.text.count("\n")),
            budget_chars=min(settings.max_chars, profile.budget.max_prefix_chars // 3),
            refresh=refresh,
        )

    def _at(
        self,
        profile: Profile,
        cut: Excerpt,
        where: Where,
        prefix: int,
        suffix: int,
        block: str = "",
        *,
        start: int | None = None,
    ) -> Assembly:
        path = where.path
        if path and self._context is not None:
            path = self._context.workspace.relative(path)
        return assemble(
            profile,
            cut,
            self._settings().completion,
            prefix_chars=max(MIN_PREFIX_CHARS, prefix),
            suffix_chars=suffix,
            uri=where.uri,
            path=path,
            language=where.language,
            block=block,
            block_before=bool(block) and placement(profile.template.family) == "before",
            prefix_start=start,
        )
