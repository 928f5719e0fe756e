"""Choosing the prompt to send: the largest windows the model can evaluate in time.

A model evaluates new prompt at a learned speed (``budget.PromptSpeed``), and its slot
already holds the last prompt (``budget.SlotMemory``): only what differs costs time. So the
prefix window walks down a ladder of sizes until the new part fits ``promptLatencyMs``. With
workspace context, the windows with the document's context block are tried first
(affordable once a pause has prefilled them), then the same windows without it.

No LSP and no HTTP here: the actual prompt text comes from ``prompt.assemble``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..context.blocks import ContextBlocks, placement
from ..settings import Settings
from .budget import MIN_PREFIX_CHARS, prefix_ladder
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

    def cold_chars(self, model: str) -> int:
        """Characters of new prompt the model evaluates within the latency target."""
        latency_s = self._settings().completion.prompt_latency_ms / 1000
        return self._meters.speed(model).affordable_chars(latency_s)

    def cheap(self, a: Assembly) -> bool:
        """Whether the model evaluates what is new in ``a``'s prompt within the target."""
        model = a.request.model
        return self._meters.slot(model).cost(a.request.prompt) <= self.cold_chars(model)

    def assemble(
        self, profile: Profile, cut: Excerpt, where: Where, *, refresh: bool = False
    ) -> Assembly:
        """The largest affordable prompt: fits the latency target given what the slot holds."""
        cold = self.cold_chars(profile.model)
        slot = self._meters.slot(profile.model)
        ladder = prefix_ladder(profile.budget.max_prefix_chars, cold)
        suffix = self._suffix_chars(profile)
        block = self._block(profile, cut, where, refresh=refresh)
        a = None
        for context in (block, "") if block else ("",):
            for size in ladder:
                a = self._at(profile, cut, where, size - len(context), suffix, context)
                if slot.cost(a.request.prompt) <= cold:
                    return a
        assert a is not None
        return a

    def widest(self, profile: Profile, cut: Excerpt, where: Where) -> Assembly:
        """The full window with a freshly chosen context block: what a pause prefills."""
        block = self._block(profile, cut, where, refresh=True)
        full = profile.budget.max_prefix_chars - len(block)
        return self._at(profile, cut, where, full, self._suffix_chars(profile), block)

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
        )
