"""The workspace context: what the server tells us about open files, and the snippets of
other places that a prompt at the cursor should carry.

The server feeds it from ``didOpen``/``didChange``/``didSave``/``didClose``; the engine asks
``select`` when the user pauses, and keeps the block it renders fixed while the user types
(the block is the start of the prompt, and Ollama reuses only an exact prompt prefix).
Everything here is plain Python over strings — no LSP, no HTTP. A file is indexed when it
is opened or saved (about 15 ms for 2,000 new lines, 5 ms when its lines were seen before);
a keystroke only stores the new text and notes the edited lines, and the file's indexes are
rebuilt when a later ``select`` needs them — never for the file being typed, whose own
definitions and windows are not offered to itself.

An open file and its lazily built indexes are ``files.OpenFile``; who defines which name,
across files, is ``names.NameIndex``; this module feeds them and runs the sources.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence

from .budget import choose
from .definitions import Definition, definition_lines, find_definitions
from .edits import RecentEdits, changed_range
from .files import OpenFile, as_path, relative_to
from .identifiers import nearest_first, partial_at_end, window_identifiers
from .languages import language_of, syntax_group
from .names import NameIndex
from .records import ContextSettings, Snippet
from .similar import Match, WindowIndex, best_windows

#: How much of ``prefix_tail`` the definitions lookup reads (nearest lines first).
DEFINITION_LINES = 30
#: Definitions offered per identifier (a name defined in several files).
PER_NAME = 2
#: Names completed from the identifier being typed at the cursor.
PARTIAL_MATCHES = 3
#: The shortest identifier fragment worth completing.
PARTIAL_MIN = 3
#: Lines of unchanged text shown around an edited range.
EDIT_CONTEXT = 2
#: Lines below the cursor assumed to be in the prompt already (its suffix window).
SUFFIX_LINES = 24

DEFAULTS = ContextSettings()


class WorkspaceContext:
    """Fed by the server from didOpen/didChange/didClose/didSave; asked by the engine."""

    def __init__(self, settings: ContextSettings = DEFAULTS, root: str | None = None) -> None:
        self.settings = settings
        self.root = as_path(root) if root else None
        self._files: dict[str, OpenFile] = {}
        self._edits = RecentEdits(settings.max_edits)
        self._names = NameIndex()

    @property
    def repo_name(self) -> str | None:
        """The workspace folder's name, for formats that name the repository."""
        if not self.root:
            return None
        return posixpath.basename(self.root.rstrip("/")) or None

    def configure(self, settings: ContextSettings) -> None:
        if settings.similar_window_lines != self.settings.similar_window_lines:
            for file in self._files.values():
                file.windows = None
        self._edits.resize(settings.max_edits)
        self.settings = settings

    # -- what the server tells us ------------------------------------------------------

    def opened(self, uri: str, path: str, language: str | None, text: str) -> None:
        self.closed(uri)
        path = self.relative(path or as_path(uri))
        language = language_of(path, language)
        file = OpenFile(uri, path, language, syntax_group(language), text)
        self._files[uri] = file
        self._index(file)  # now, while the user is not typing, rather than in a select

    def changed(self, uri: str, text: str, edited_lines: Sequence[int] = ()) -> None:
        """``uri`` now reads ``text``; ``edited_lines`` are the lines (of the new text) the
        change touched, when the server knows them — else they are found by comparison."""
        file = self._files.get(uri)
        if file is None:
            return
        if edited_lines:
            delta = text.count("\n") - file.text.count("\n")
            lines: Sequence[int] = edited_lines
        else:
            lines, delta = changed_range(file.lines, text.split("\n"))
        file.replace(text)
        self._edits.record(uri, lines, delta)

    def saved(self, uri: str) -> None:
        """Saving is a natural pause: bring the file's indexes up to date now, so that the
        next ``select`` elsewhere does not pay for them."""
        file = self._files.get(uri)
        if file is not None:
            self._index(file)

    def closed(self, uri: str) -> None:
        file = self._files.pop(uri, None)
        if file is None:
            return
        self._names.remove(uri)
        self._edits.forget(uri)

    # -- what the engine asks ----------------------------------------------------------

    def select(
        self,
        uri: str,
        prefix_tail: str,
        *,
        budget_chars: int,
        window: tuple[int, int] | None = None,
    ) -> tuple[Snippet, ...]:
        """Snippets for a prompt at the end of ``prefix_tail`` in ``uri``, in block order.

        Deterministic: the same open files, edits and arguments give the same snippets in
        the same order. Never a snippet of ``uri`` overlapping ``window`` (the lines of
        ``uri`` already in the prompt; by default those of ``prefix_tail`` and a suffix's
        worth below it). At most ``budget_chars`` in all (see ``Snippet.cost``) and at most
        ``max_snippets``, whole snippets only.
        """
        settings = self.settings
        budget = min(budget_chars, settings.max_chars)
        if not settings.enabled or budget <= 0 or settings.max_snippets <= 0:
            return ()
        for file in self._others(uri):
            self._index(file)
        sources: dict[str, list[Snippet]] = {}
        if settings.definitions:
            sources["definition"] = self._definitions(uri, prefix_tail)
        if settings.similar:
            sources["similar"] = self._similar(uri, prefix_tail)
        if settings.recent_edits:
            excluded = window if window is not None else self._window(uri, prefix_tail)
            sources["edit"] = self._recent_edits(uri, excluded)
        return choose(
            list(sources.values()), budget_chars=budget, max_snippets=settings.max_snippets
        )

    # -- sources -----------------------------------------------------------------------

    def _definitions(self, uri: str, prefix_tail: str) -> list[Snippet]:
        tail = "\n".join(prefix_tail.split("\n")[-DEFINITION_LINES:])
        wanted = nearest_first(tail)
        partial = partial_at_end(tail)
        if partial and len(partial) >= PARTIAL_MIN:
            starting = self._names.starting_with(partial, PARTIAL_MATCHES)
            completions = [n for n in starting if n != partial]
            wanted = [*completions[:PARTIAL_MATCHES], *wanted]
        current = self._files.get(uri)
        if current is not None:  # then what the file imports, when it is above the tail
            listed = set(wanted)
            wanted += [name for name in current.imports if name not in listed]
        found: list[Snippet] = []
        seen: set[tuple[str, int]] = set()
        limit = 2 * self.settings.max_snippets
        for name in wanted:
            places = self._names.places(name)
            if not places:
                continue
            here: list[tuple[str, OpenFile, Definition]] = [
                (self._files[key].path, self._files[key], d)
                for key, defs in places.items()
                if key != uri
                for d in defs
            ]
            for _, file, definition in sorted(here, key=lambda t: (t[0], t[2].line))[:PER_NAME]:
                if (file.uri, definition.line) in seen:
                    continue
                seen.add((file.uri, definition.line))
                assert file.group is not None
                start, stop = definition_lines(file.lines, definition, file.group)
                snippet = file.snippet(start, stop, "definition")
                if snippet is not None:
                    found.append(snippet)
            if len(found) >= limit:
                break
        return found

    def _similar(self, uri: str, prefix_tail: str) -> list[Snippet]:
        size = self.settings.similar_window_lines
        lines = prefix_tail.split("\n")
        query = window_identifiers(lines, max(0, len(lines) - size), len(lines))
        limit = self.settings.max_snippets
        ranked: list[tuple[float, str, int, OpenFile, Match]] = []
        for file in self._others(uri):
            assert file.windows is not None
            for match in best_windows(file.windows.matches(query), limit):
                ranked.append((-match.score, file.path, match.start, file, match))
        ranked.sort(key=lambda t: t[:3])
        found = []
        for _, _, _, file, match in ranked[:limit]:
            snippet = file.snippet(match.start, match.stop, "similar")
            if snippet is not None:
                found.append(snippet)
        return found

    def _recent_edits(self, uri: str, window: tuple[int, int] | None) -> list[Snippet]:
        found = []
        for edit in self._edits.newest_first():
            file = self._files.get(edit.key)
            if file is None:
                continue
            start, stop = edit.first - EDIT_CONTEXT, edit.last + 1 + EDIT_CONTEXT
            if edit.key == uri and (window is None or (start <= window[1] and window[0] < stop)):
                continue
            snippet = file.snippet(start, stop, "edit")
            if snippet is not None:
                found.append(snippet)
        return found

    # -- indexes -----------------------------------------------------------------------

    def _others(self, uri: str) -> Iterator[OpenFile]:
        """The other open files, in path order (the order must not depend on history)."""
        for file in sorted(self._files.values(), key=lambda f: (f.path, f.uri)):
            if file.uri != uri:
                yield file

    def _index(self, file: OpenFile) -> None:
        if file.windows is None:
            file.windows = WindowIndex(file.lines, self.settings.similar_window_lines)
        if file.definitions is None:
            definitions = find_definitions(file.lines, file.group) if file.group else []
            file.definitions = definitions
            by_name: dict[str, list[Definition]] = {}
            for definition in definitions:
                by_name.setdefault(definition.name, []).append(definition)
            self._names.put(file.uri, by_name)

    def _window(self, uri: str, prefix_tail: str) -> tuple[int, int] | None:
        """The lines of ``uri`` around the cursor, found by where ``prefix_tail`` ends."""
        file = self._files.get(uri)
        if file is None:
            return None
        at = file.text.rfind(prefix_tail)
        if at < 0:
            return None
        cursor = file.text.count("\n", 0, at + len(prefix_tail))
        return cursor - prefix_tail.count("\n"), cursor + SUFFIX_LINES

    def relative(self, path: str) -> str:
        """``path`` relative to the workspace root (as prompts show paths)."""
        return relative_to(self.root, path)
