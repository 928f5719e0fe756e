"""Completions cached by document context, and typing-through of a shown suggestion.

The cache key is a hash of everything that decides the model's answer: model, template
family, sampling options, and the exact prompt text sent (windows included), so any change
to the context is a miss and nothing stale is served. Entries expire after ``ttl_seconds``
and at most ``max_entries`` are kept (least recently used first out); each suggestion is
capped at ``MAX_SUGGESTION_CHARS``, so the cache's memory is bounded by
``max_entries × MAX_SUGGESTION_CHARS`` plus small keys.

Typing-through: while a suggestion is shown, the user often types its first characters.
The text before the cursor then ends with the old text before the cursor plus what was typed,
so if the suggestion starts with the typed text, the rest is served with no model call. Only
the end of the old prefix window and the start of the suffix window are compared
(``TAIL_CHARS``/``HEAD_CHARS``): the engine may pick a bigger window once the model can
afford it, and a suggestion shown for the smaller one still holds. Only the last few
suggestions of the last few documents are remembered for this.

Closing a document forgets its entries (``forget``): each entry is noted under the document
it was generated for, so that costs one set of keys, not a scan of the cache. An entry that
two documents share (the very same prompt) goes with the first of them to close; the other
generates it again if it needs it.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cachetools import TTLCache

from .templates import Prompt

MAX_SUGGESTION_CHARS = 4000
SHOWN_PER_DOCUMENT = 4
SHOWN_DOCUMENTS = 16
TAIL_CHARS = 512
HEAD_CHARS = 256


@dataclass(frozen=True, slots=True)
class _Shown:
    prefix: str
    suffix: str
    text: str
    logprob: float | None = None


class CompletionCache:
    def __init__(
        self,
        *,
        max_entries: int,
        ttl_seconds: float,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._entries: TTLCache[str, str] = TTLCache(
            maxsize=max(1, max_entries), ttl=max(ttl_seconds, 1e-3), timer=timer
        )
        self._shown: OrderedDict[str, deque[_Shown]] = OrderedDict()
        #: uri -> keys put for it (some may have expired or been evicted since)
        self._keys_of: dict[str, set[str]] = {}
        self.hits = 0
        self.misses = 0
        self.typed = 0
        self.accepted_count = 0

    @staticmethod
    def key(model: str, family: str, options: Mapping[str, object], prompt: Prompt) -> str:
        digest = hashlib.blake2b(digest_size=16)
        parts = (model, family, repr(sorted(options.items())), str(prompt.raw))
        for part in (*parts, prompt.prompt, prompt.suffix or ""):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))  # length-prefixed: no two splits
            digest.update(data)  # of the same bytes collide, whatever the text contains
        return digest.hexdigest()

    @property
    def entries(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> str | None:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def peek(self, key: str) -> str | None:
        """Like ``get``, without counting a hit or a miss (for background work)."""
        return self._entries.get(key)

    def put(self, key: str, suggestion: str, *, uri: str) -> None:
        """Cache ``suggestion`` under ``key``, generated for the document ``uri``."""
        if self.max_entries <= 0:
            return
        self._entries[key] = suggestion[:MAX_SUGGESTION_CHARS]
        keys = self._keys_of.setdefault(uri, set())
        keys.add(key)
        if len(keys) > 2 * self.max_entries:
            # expired and evicted keys pile up here: drop them, at most once per
            # ``max_entries`` puts (the live ones are never more than the cache holds)
            keys.intersection_update([k for k in keys if k in self._entries])

    def remember(
        self, uri: str, prefix: str, suffix: str, suggestion: str, logprob: float | None = None
    ) -> None:
        """Note that ``suggestion`` was produced for this spot, for typing-through, with the
        log-probability the model gave it (``sureness``)."""
        shown = self._shown.get(uri)
        if shown is None:
            shown = self._shown[uri] = deque(maxlen=SHOWN_PER_DOCUMENT)
            while len(self._shown) > SHOWN_DOCUMENTS:
                self._shown.popitem(last=False)
        self._shown.move_to_end(uri)
        text = suggestion[:MAX_SUGGESTION_CHARS]
        shown.append(_Shown(prefix[-TAIL_CHARS:], suffix[:HEAD_CHARS], text, logprob))

    def sureness(self, uri: str, text: str) -> float | None:
        """The log-probability of the latest remembered suggestion in ``uri`` that is ``text``
        or ends with it (the rest of one being typed through: its own chance is at least the
        whole's); None when none is remembered or the model gave none."""
        for shown in reversed(self._shown.get(uri, ())):
            if text and shown.text.endswith(text):
                return shown.logprob
        return None

    def typed_through(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The rest of a remembered suggestion whose start the user has just typed."""
        head = suffix[:HEAD_CHARS]
        for shown in reversed(self._shown.get(uri, ())):
            if shown.suffix != head:
                continue
            window = prefix[-(len(shown.prefix) + len(shown.text)) :]
            at = window.rfind(shown.prefix)
            if at < 0:
                continue
            typed = window[at + len(shown.prefix) :]
            if typed and len(typed) < len(shown.text) and shown.text.startswith(typed):
                self.typed += 1
                return shown.text[len(typed) :]
        return None

    def accepted(self, uri: str) -> None:
        """The user took a suggestion here; what was remembered for the spot is used up."""
        self.accepted_count += 1

    def forget(self, uri: str) -> None:
        """``uri`` closed: drop its entries and what was remembered there for typing-through."""
        self._shown.pop(uri, None)
        for key in self._keys_of.pop(uri, ()):
            self._entries.pop(key, None)
