"""From one session's events (Neovim) and requests (engine) to the metrics of the table.

Positions are offsets into the corpus's target: ``p`` characters of it are in the buffer.
An *answer* is a suggestion a client received, as ``(offset, text, time)``: for ours each
inline-completion item (its range start mapped to an offset; the driver logged request and
answer), for llama.vim each ``/infill`` answer whose prompt (``input_prefix`` + ``prompt``)
ends at an offset of the document (found in the proxy's records).

A ghost drawn at ``p`` with text ``G`` is **sound** when it starts at the cursor, the buffer is
the corpus so far, and some answer received before it was drawn, at ``offset <= p``, reads
``target[offset:p] + G`` from its start: it was answered for text the user has since typed
through, or for the text as it is. Otherwise it **contradicts** the typed text: drawn for an
older state (an answer to a request older than the text, or a held suggestion minus as many
characters as were typed when those characters disagree with it), or away from the cursor.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass
from typing import Any

from .corpus import Corpus
from .engines import EngineRequest


@dataclass(frozen=True)
class Answer:
    offset: int
    text: str
    t: float


class Positions:
    """Map buffer coordinates to target offsets (the cursor is always at a line end)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.by_place: dict[tuple[int, int], int] = {}
        row, start = corpus.start_row - 1, 0
        for p in range(len(corpus.target) + 1):
            self.by_place.setdefault((row, p - start), p)
            if corpus.target[p : p + 1] == "\n":
                row, start = row + 1, p + 1
        self.document = corpus.head + corpus.target

    def offset(self, line: int, character: int) -> int | None:
        return self.by_place.get((line, character))

    def ending(self, text: str) -> int | None:
        """The offset where ``text`` ends in the corpus typed so far (a request's prompt)."""
        at = self.document.find(text, max(0, len(self.corpus.head) - len(text)))
        if at < 0 or at + len(text) < len(self.corpus.head):
            return None
        return at + len(text) - len(self.corpus.head)


def answers_of(events: list[dict[str, Any]], pos: Positions, requests: list[EngineRequest]):
    """Every suggestion the client received (see the module docstring)."""
    found: list[Answer] = []
    for e in events:
        if e["e"] != "ans":
            continue
        for item in e.get("items") or []:
            if item.get("line") is None or not item.get("text"):
                continue
            offset = pos.offset(item["line"], item["character"])
            if offset is not None:
                found.append(Answer(offset, item["text"], e["t"]))
    for r in requests:
        if r.path == "/infill" and r.answer and r.finish is not None:
            offset = pos.ending(str(r.body.get("input_prefix", "")) + str(r.body.get("prompt", "")))
            if offset is not None:
                found.append(Answer(offset, r.answer, r.finish * 1000))
    return found


def sound(ghost: dict[str, Any], target: str, answers: list[Answer]) -> bool:
    g, p = ghost["g"], ghost["p"]
    if p < 0 or (
        ghost.get("r") is not None and (ghost["r"], ghost["c"]) != (ghost["cr"], ghost["cc"])
    ):
        return False
    for a in answers:
        if a.t <= ghost["t"] + 5 and a.offset <= p and a.text.startswith(target[a.offset : p] + g):
            return True
    return False


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def _metrics_of(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("llamacpp:") and "{" not in line:
            name, _, value = line.removeprefix("llamacpp:").partition(" ")
            out[name] = float(value)
    return out


def _prompt_tail(r: EngineRequest) -> str:
    """The end of the text before the cursor that a request's prompt holds."""
    if r.path == "/infill":
        return str(r.body.get("input_prefix", "")) + str(r.body.get("prompt", ""))
    prompt = str(r.body.get("prompt", ""))
    for opener, closer, middle in (
        ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
        ("<PRE> ", " <SUF>", " <MID>"),
    ):
        if opener in prompt and closer in prompt:
            head, _, rest = prompt.rsplit(opener, 1)[1].partition(closer)
            # the cursor line's part may follow the middle token (our server, llama.vim)
            prompt = head + rest.partition(middle)[2]
            break
    return prompt[-300:]


def classify(r: EngineRequest, pos: Positions, typed_at: list[tuple[float, int]]) -> str:
    """``prefill`` (one token, no alternatives: only the prompt evaluation is wanted, or
    llama.vim's context update), ``speculation`` (its prompt ends past what was typed when it
    arrived, or nowhere in the corpus: as if a suggestion were accepted) or ``foreground``."""
    b = r.body
    if r.one_token and not (b.get("top_logprobs") or b.get("logprobs") or b.get("n_probs")):
        return "prefill"
    tail = _prompt_tail(r)
    q = pos.ending(tail)
    now = max((p for t, p in typed_at if t <= r.arrive * 1000), default=0)
    if q is not None and q <= now:
        return "foreground"
    # guided healing appends what it steered to, one token past the typed text at most (a
    # speculation of one token counts as foreground then: the few it hides are cheap)
    token = re.search(r"[ \t]*\S+$", tail)
    q = pos.ending(tail[: token.start()]) if token else None
    return "foreground" if q is not None and q <= now else "speculation"


def prefill_reuse(requests: list[EngineRequest], kinds: list[str]) -> dict[str, float]:
    """How much of each run of prefill steps (one-token requests in a row, in arrival order,
    in one slot) the next other request in that slot took from the engine's cache, by the
    engine's numbers: its cached tokens over the last step's prompt (a step cancelled before
    it answered has no numbers: the last one that answered; capped at 100 %). Slots are told
    apart by the ``id_slot`` a request names (a prefill in our spare slot is followed by the
    requests after it is promoted, not by those still in the main slot meanwhile); requests
    naming none are one slot. A run whose next request has no numbers (cancelled before
    answering) is not measured; a run no request followed in its slot by the session's end
    (one cut off in a spare slot, say) is counted apart."""
    reuse: list[float] = []
    unmeasured = 0
    last: dict[Any, EngineRequest | None] = {}
    for r, kind in zip(requests, kinds, strict=True):
        slot = r.body.get("id_slot")
        if kind == "prefill":
            if r.prompt_tokens is not None or last.get(slot) is None:
                last[slot] = r
            continue
        before = last.pop(slot, None)
        if before is not None:
            if r.cached is None or not before.prompt_tokens:
                unmeasured += 1
            else:
                reuse.append(min(100.0, 100 * r.cached / before.prompt_tokens))
    return {
        "prefill steps": kinds.count("prefill"),
        "prefill tokens evaluated": sum(
            r.evaluated or 0 for r, k in zip(requests, kinds, strict=True) if k == "prefill"
        ),
        "prefill runs measured": len(reuse),
        "prefill runs reused >= 90 %": sum(1 for x in reuse if x >= 90),
        "prefill runs not measured": unmeasured,
        "prefill runs never followed": sum(1 for r in last.values() if r is not None),
        "prefill reuse median %": statistics.median(reuse) if reuse else float("nan"),
    }


def engine_costs(
    events: list[dict[str, Any]],
    requests: list[EngineRequest],
    pos: Positions,
    busy: list[tuple[float, bool]] | None = None,
):
    """Prompt tokens evaluated per key, engine busy %, the longest wait behind background work."""
    by = {e["e"]: e for e in events if e["e"] in ("start", "typed", "end")}
    t0, t1 = by["start"]["t"] / 1000, by["typed"]["t"] / 1000
    t_end = by["end"]["t"] / 1000 if "end" in by else t1
    keys = sum(1 for e in events if e["e"] == "key")
    mine = sorted((r for r in requests if t0 <= r.arrive <= t_end), key=lambda r: r.arrive)
    snapshots = {e["label"]: e for e in events if e["e"] == "metrics"}
    if "start" in snapshots and "end" in snapshots:
        a, b = _metrics_of(snapshots["start"]["text"]), _metrics_of(snapshots["end"]["text"])
        tokens = b.get("prompt_tokens_total", 0) - a.get("prompt_tokens_total", 0)
        compute = sum(
            b.get(k, 0) - a.get(k, 0)
            for k in ("prompt_seconds_total", "tokens_predicted_seconds_total")
        )
        span = (snapshots["end"]["t"] - snapshots["start"]["t"]) / 1000
    else:
        tokens = sum(r.evaluated or 0 for r in mine)
        compute = _union([(max(t0, r.arrive), min(t_end, r.finish or t_end)) for r in mine])
        span = t_end - t0
    samples = [b for t, b in busy or [] if t0 * 1000 <= t <= t1 * 1000]
    if samples:
        compute, span = sum(samples), len(samples)
    typed_at = [
        (e["t"], e["p"] + (e["n"] if e["e"] == "key" else 0))
        for e in events
        if e["e"] in ("key", "accepted")
    ]
    # a Tab's request can arrive before the typist has checked the accept: from the press on,
    # the accepted text counts as typed (a speculation is sent before the Tab, at the show)
    typed_at += [(e["t"], e["p"] + len(e["text"])) for e in events if e["e"] == "tab"]
    typed_at.sort()
    kinds = {id(r): classify(r, pos, typed_at) for r in mine}
    # prefill reuse also counts the pause before the first key (the engine is the session's)
    session = sorted((r for r in requests if r.arrive <= t_end), key=lambda r: r.arrive)
    back = [r for r in mine if kinds[id(r)] != "foreground"]
    waits = [0.0]
    for f in (r for r in mine if kinds[id(r)] == "foreground"):
        until = f.first or f.finish or t_end
        waits.append(
            sum(
                max(0.0, min(until, b.busy_until or until) - f.arrive)
                for b in back
                if b.arrive <= f.arrive
            )
        )
    count = {
        k: sum(1 for v in kinds.values() if v == k)
        for k in ("foreground", "prefill", "speculation")
    }
    # a speculation is reused only if it assumed the right text: its prompt then ends at a
    # place in the corpus the typist reaches (else nowhere in it)
    right = sum(
        1 for r in mine if kinds[id(r)] == "speculation" and pos.ending(_prompt_tail(r)) is not None
    )
    return {
        "prompt tokens evaluated per key": tokens / max(1, keys),
        "engine busy %": 100 * compute / max(1e-9, span),
        "longest wait behind background ms": 1000 * max(waits),
        "engine requests": len(mine),
        **{f"requests: {k}": v for k, v in count.items()},
        "speculations on the right text": right,
        **prefill_reuse(session, [classify(r, pos, typed_at) for r in session]),
    }


def analyse(
    corpus: Corpus,
    events: list[dict[str, Any]],
    requests: list[EngineRequest],
    busy: list[tuple[float, bool]] | None = None,
):
    """The table's numbers for one session (``busy``: sampled engine activity, see
    ``neovim.Outcome``; without it busy time comes from the engine's own numbers)."""
    target = corpus.target
    pos = Positions(corpus)
    answers = answers_of(events, pos, requests)
    ghosts = [e for e in events if e["e"] == "ghost"]
    actions = [e for e in events if e["e"] in ("start", "key", "tab")]
    keys = sum(1 for e in actions if e["e"] == "key")
    accepted = [e for e in events if e["e"] == "accepted"]
    seen: set[str] = set()
    contradicting: set[str] = set()
    latencies: list[float] = []
    states: list[tuple[float, bool]] = []
    for ghost in ghosts:
        if ghost["g"] is None:
            states.append((ghost["t"], False))
            continue
        ok = sound(ghost, target, answers)
        states.append((ghost["t"], ok))
        identity = (target[: ghost["p"]] if ghost["p"] >= 0 else "\x00") + ghost["g"]
        if not ok:
            contradicting.add(identity)
        if identity not in seen:
            seen.add(identity)
            if ok:
                before = [a["t"] for a in actions if a["e"] != "start" and a["t"] <= ghost["t"]]
                if before:
                    latencies.append(ghost["t"] - before[-1])
    in_view = pauses = 0
    for a, b in itertools.pairwise(actions):
        if b["t"] - a["t"] >= 1000:
            pauses += 1
            last = [ok for t, ok in states if t < b["t"]]
            in_view += bool(last and last[-1])
    typed_end = next((e["p"] for e in events if e["e"] == "typed"), 0)
    good = [e for e in accepted if e["ok"]]
    chars = sum(e["n"] for e in good)
    out = {
        "keys": keys,
        "suggestions shown": len(seen),
        "contradicting ghosts": len(contradicting),
        "accepts": len(accepted),
        "wrong accepts": len(accepted) - len(good),
        "accepted chars": chars,
        "accepted %": 100 * chars / max(1, typed_end),
        "key to suggestion p50 ms": pct(latencies, 0.5),
        "key to suggestion p95 ms": pct(latencies, 0.95),
        "pauses >= 1 s": pauses,
        "sound ghost at pauses %": 100 * in_view / pauses if pauses else float("nan"),
        "typing s": (actions[-1]["t"] - actions[0]["t"]) / 1000 if actions else 0.0,
        "settle timeouts": sum(1 for e in events if e["e"] == "settle_timeout"),
        **engine_costs(events, requests, pos, busy),
    }
    out["wrong examples"] = [e.get("got", "")[-120:] for e in accepted if not e["ok"]][:3]
    return out


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each numeric metric over seeds (NaN-free values only)."""
    merged: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r.get(key), int | float) and r[key] == r[key]]
        merged[key] = statistics.median(values) if values else float("nan")
    return merged
