"""Ollama's ``logprobs`` answers, shared by both engines (Ollama >= v0.12.11).

What Ollama does, and so what the double does:

* only ``"logprobs": true`` turns them on; ``top_logprobs`` alone returns nothing ("Only
  applies when Logprobs is true", ``api/types.go``; the runner and llama-server are only asked
  when ``req.Logprobs``: ``llm/llama_server.go`` ``NProbs = max(req.TopLogprobs, 1)``);
* each sampled token gets ``{"token", "logprob", "bytes"}`` and, when ``top_logprobs > 0``,
  ``"top_logprobs"``: the ``top_logprobs`` most probable tokens of the whole vocabulary, most
  probable first, log-softmax of the raw logits (``runner/common/logprob.go``
  ``CalculateLogprobs``), so the sampled token need not be among them;
* ``token`` is the token's piece as text (special tokens spelled out); Go's JSON encoder
  replaces each byte that is not valid UTF-8 with U+FFFD, and ``bytes`` are the UTF-8 bytes of
  that text (``server/logprob.go`` ``stringToByteInts``), left out when empty;
* the end-of-generation token gets none; a chunk carries the entries of the tokens whose text
  it sends, so text held back (a partial stop string, an incomplete UTF-8 character) sends its
  tokens' entries later with it; a stop string drops the entries of the tokens that start at
  or after it (``runner/llamarunner/runner.go`` ``TruncateStop`` and ``pendingLogprobs``);
  a non-streamed answer carries all of them on its one object (``server/routes.go``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Entry = dict[str, Any]
"""One ``api.Logprob`` as Go encodes it: ``token``, ``logprob``, ``bytes``, ``top_logprobs``."""


def go_text(raw: bytes) -> str:
    """``raw`` as Go's ``json.Marshal`` writes a string holding it: U+FFFD per invalid byte."""
    text = raw.decode("utf-8", "surrogateescape")
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in text)


def token_logprob(token: str, logprob: float) -> Entry:
    """An ``api.TokenLogprob``: ``bytes`` is ``omitempty``."""
    entry: Entry = {"token": token, "logprob": float(logprob)}
    if token:
        entry["bytes"] = list(token.encode())
    return entry


def logprob_entry(
    token: str, logprob: float, top: Sequence[tuple[str, float]] | None = None
) -> Entry:
    """An ``api.Logprob``: the sampled token, then ``top_logprobs`` (``omitempty``)."""
    entry = token_logprob(token, logprob)
    if top:
        entry["top_logprobs"] = [token_logprob(t, lp) for t, lp in top]
    return entry


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a request asked for: entries at all, and how many alternatives each."""

    logprobs: bool = False
    top: int = 0

    @classmethod
    def from_request(cls, req: dict[str, Any]) -> Wanted:
        if req.get("logprobs") is not True:
            return cls()
        return cls(True, max(0, int(req.get("top_logprobs") or 0)))


@dataclass
class Pending:
    """The entries of tokens whose text the stop filter has not let out yet.

    Push each sampled token's text and entry before feeding the text to the ``StopFilter``,
    then ``release`` what the filter let out: the entries that go with that text."""

    _texts: list[str] = field(default_factory=list)
    _entries: list[Entry] = field(default_factory=list)

    def push(self, text: str, entry: Entry) -> None:
        self._texts.append(text)
        self._entries.append(entry)

    def release(self, sent: str, *, stopped: bool = False, final: bool = False) -> list[Entry]:
        """Entries for ``sent``: all pending ones when text went out, none while held back;
        after a stop only those of tokens starting before the cut; at the end, dropped when
        nothing is sent (Ollama's ``flushPending`` sends no empty chunk)."""
        if not stopped and not final and not sent:
            return []
        kept = len(self._entries)
        if stopped:
            kept, start = 0, 0
            for text in self._texts:
                if start >= len(sent):
                    break
                kept += 1
                start += len(text)
        out = self._entries[:kept] if sent else []
        self._texts.clear()
        self._entries.clear()
        return out
