"""Workspace context sources, pure: open files, recent edits, similar windows and lexical
definitions, each bounded, chosen within one budget and laid out per model family so that
consecutive prompts share their prefix."""

from .layout import placement, render_block
from .records import ContextSettings, Snippet
from .workspace import WorkspaceContext

__all__ = ["ContextSettings", "Snippet", "WorkspaceContext", "placement", "render_block"]
