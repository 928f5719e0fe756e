"""Workspace context sources, pure: lexical definitions, similar windows and recent edits of
the open files, each bounded, chosen within one budget, and laid out per model family so
that consecutive prompts share their prefix.

Wiring, for the server and the engine:

* ``WorkspaceContext(settings, root=workspace_folder_uri_or_path)``; feed it ``opened`` /
  ``changed`` (with the lines the change touched, when known) / ``saved`` / ``closed``.
* When the user pauses: ``snippets = context.select(uri, last_30_lines_before_cursor,
  budget_chars=..., window=(first, last))`` — ``window`` being the lines of the current file
  the prompt already holds — then ``block = render_block(snippets, template.family,
  language=..., current_path=<the file's workspace-relative path>, repo=context.repo_name)``.
  Keep that block unchanged while the user types; refresh it at the next pause.
* ``placement(family)`` says where it goes: ``"before"`` the whole FIM prompt (Qwen2.5-Coder,
  StarCoder2, CodeGemma), or ``"prefix"``: at the start of the prefix text, after the FIM
  opener (CodeLlama, DeepSeek-Coder, plain prefix, Ollama's own template).
* A non-empty block ends with the current file's header: build the FIM template without
  its own path header then.
"""

from .layout import placement, render_block
from .records import ContextSettings, Snippet
from .workspace import WorkspaceContext

__all__ = ["ContextSettings", "Snippet", "WorkspaceContext", "placement", "render_block"]
