"""Where each name is defined among the open files, and which names start with a fragment.

The definitions lookup asks "who defines ``order_total``?" and "what names start with
``order_t``?" on every pause, over every open file; both must cost a dictionary lookup or a
binary search, not a scan. A file's entries are replaced as a whole when it is re-indexed,
so the index never holds names a file no longer defines.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

from .definitions import Definition


class NameIndex:
    """name -> uri -> that file's definitions of the name."""

    def __init__(self) -> None:
        self._places: dict[str, dict[str, list[Definition]]] = {}
        #: uri -> the names it has entries under (to replace them without a scan)
        self._names_of: dict[str, set[str]] = {}
        #: all names in order, for prefix lookups; None: rebuilt at the next lookup
        self._sorted: list[str] | None = None

    def places(self, name: str) -> Mapping[str, list[Definition]]:
        """The files defining ``name`` (uri -> its definitions there); empty when none."""
        return self._places.get(name, {})

    def put(self, uri: str, by_name: Mapping[str, list[Definition]]) -> None:
        """Put ``uri``'s definitions in the index instead of its previous ones."""
        for name in self._names_of.get(uri, set()) - by_name.keys():
            places = self._places[name]
            del places[uri]
            if not places:
                del self._places[name]
                self._sorted = None
        for name, defs in by_name.items():
            places = self._places.setdefault(name, {})
            if not places:
                self._sorted = None
            places[uri] = defs
        if by_name:
            self._names_of[uri] = set(by_name)
        else:
            self._names_of.pop(uri, None)

    def remove(self, uri: str) -> None:
        """``uri`` closed: it defines nothing any more."""
        self.put(uri, {})

    def starting_with(self, partial: str, limit: int) -> list[str]:
        """Names starting with ``partial``, in order: up to ``limit`` + 1 (``partial`` itself
        may be among them, and the caller leaves it out)."""
        if self._sorted is None:
            self._sorted = sorted(self._places)
        names = self._sorted
        at = bisect.bisect_left(names, partial)
        found = []
        while at < len(names) and names[at].startswith(partial) and len(found) <= limit:
            found.append(names[at])
            at += 1
        return found
