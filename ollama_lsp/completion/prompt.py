"""Prompt assembly: from a model's profile and the text around the cursor to the exact request.

One pure function, ``assemble``, decides everything that goes to the model and everything
post-processing needs to know about the place: windows (sized by the engine's budget), the
single-/multi-line decision, token healing (the prompt backs up to the start of a partial
word, and the answer must begin with what was removed), neutralised special-token strings
(user text never becomes a control token in a raw prompt), the template, the request and
the cache key. The engine only chooses the window size and schedules.

No LSP and no HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..provider import CodeCompletionRequest, ProviderCapabilities
from ..settings import CompletionSettings, Multiline
from .cache import CompletionCache
from .context import ContextBudget, Windows, budget_for, build_windows
from .excerpt import Excerpt
from .healing import heal
from .special import neutralise
from .spot import Spot, wants_multiline
from .templates import FimTemplate, Prompt, select_template


@dataclass(frozen=True, slots=True)
class Profile:
    """What prompt assembly needs to know about a model, computed once per model."""

    model: str
    template: FimTemplate
    num_ctx: int
    #: The largest windows the context allows; the engine asks for smaller ones when slow.
    budget: ContextBudget
    #: Server slots kept apart for us (``ProviderCapabilities.lanes``): with 2, a prefill grows
    #: the wider window in the spare one (``background.Prefill``).
    lanes: int = 1

    @property
    def uses_suffix(self) -> bool:
        return self.template.mode != "prefix"


def build_profile(model: str, caps: ProviderCapabilities, settings: CompletionSettings) -> Profile:
    template = select_template(
        model,
        template_text=caps.template,
        capabilities=("insert",) if caps.supports_insert else (),
        fim=settings.fim,
    )
    num_ctx = max(256, min(settings.context_tokens, caps.context_window))
    budget = budget_for(num_ctx, settings.max_tokens, settings.prefix_lines, settings.suffix_lines)
    return Profile(model, template, num_ctx, budget, lanes=caps.lanes)


def full_budget(settings: CompletionSettings) -> ContextBudget:
    """The largest budget any model can get under ``settings`` (for cutting a safe excerpt)."""
    return budget_for(
        settings.context_tokens, settings.max_tokens, settings.prefix_lines, settings.suffix_lines
    )


@dataclass(frozen=True, slots=True)
class Assembly:
    """One fully decided request for one place."""

    windows: Windows
    spot: Spot
    prompt: Prompt
    request: CodeCompletionRequest
    key: str
    #: the document the place is in (its cache entries are forgotten when it closes)
    uri: str = ""

    @property
    def multiline(self) -> bool:
        return self.spot.multiline


def assemble(
    profile: Profile,
    cut: Excerpt,
    settings: CompletionSettings,
    *,
    prefix_chars: int,
    suffix_chars: int,
    uri: str = "",
    path: str | None = None,
    language: str | None = None,
    block: str = "",
    block_before: bool = False,
    prefix_start: int | None = None,
) -> Assembly:
    """The request for the cursor in ``cut`` with windows of at most the given sizes.

    ``block`` (workspace context, already rendered for the family) goes first, where the
    family wants it: before the whole FIM prompt (``block_before``: families with file
    tokens) or at the start of the prefix text. It ends with the current file's header, so
    the template's own header is left out then. ``path`` is workspace-relative. ``uri`` is
    the document's: the request's affinity (a pool of hosts prefers the one that served the
    document last, its prompt cache warm), and the document the cache files the answer under.
    ``prefix_start`` (an offset in ``cut.text``, a line start) fixes where the prefix begins.
    """
    budget = replace(
        profile.budget,
        max_prefix_chars=min(prefix_chars, profile.budget.max_prefix_chars),
        max_suffix_chars=min(suffix_chars, profile.budget.max_suffix_chars),
    )
    windows = build_windows(cut.text, cut.offset, budget=budget, start=prefix_start)
    multiline = decide_multiline(settings.multiline, windows)
    prompt_prefix, healed = heal(windows.prefix)
    suffix = windows.suffix if profile.uses_suffix else ""
    head = block if block and not block_before else ""
    line_start = prompt_prefix.rfind("\n") + 1  # the cursor line's part (templates' ``tail``)
    prompt = profile.template.build(
        head + neutralise(prompt_prefix[:line_start]),
        neutralise(suffix),
        middle=neutralise(prompt_prefix[line_start:]),
        path=None if block else path,
        language=language,
    )
    if block and block_before:
        prompt = Prompt(block + prompt.prompt, prompt.suffix, prompt.raw, prompt.stop)
    spot = Spot(
        line_before_cursor=windows.line_before_cursor,
        line_after_cursor=windows.line_after_cursor,
        suffix=windows.suffix,
        multiline=multiline,
        healed=healed,
        stop=profile.template.stop,
        document_suffix=cut.text[cut.offset :],
    )
    request = CodeCompletionRequest(
        model=profile.model,
        prompt=prompt.prompt,
        suffix=prompt.suffix,
        raw=prompt.raw,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        stop=prompt.stop,
        num_ctx=profile.num_ctx,
        affinity=uri,
        logprobs=settings.speculate,  # how sure the model is decides whether to speculate
    )
    options = {
        "t": settings.temperature,
        "n": settings.max_tokens,
        "ctx": profile.num_ctx,
        "ml": multiline,
    }
    key = CompletionCache.key(profile.model, profile.template.family, options, prompt)
    return Assembly(windows=windows, spot=spot, prompt=prompt, request=request, key=key, uri=uri)


def decide_multiline(mode: Multiline, windows: Windows) -> bool:
    if mode == "auto":
        return wants_multiline(windows.line_before_cursor, windows.line_after_cursor)
    return mode == "always"
