"""A pool of hosts: which one a request goes to, failing over, and what is known of each.

``ollama.host`` may list several servers (a team's GPU boxes, or Ollama behind two ports). The
pool is one ``AiProvider`` to the engine and one ``ModelStore`` to the model manager; behind it:

* **Which host.** A document's requests go to one host chosen by rendezvous hashing of its uri
  over the hosts that are up (the idea of nginx's ``hash $key consistent``): the same document
  keeps landing on the same host, so that host's prompt cache holds its prompt start, documents
  spread over the pool, and when a host dies only its documents move — back again once it
  returns. Requests of no document (chat, warm-up, listings) take the hosts in the order given.
* **Failing over.** A request that fails *before its first chunk* because the host is down,
  closes or resets the connection without answering,
  refuses us, or answers 5xx is sent to the next host at once: the keystroke's request is not
  lost. A failure after text has flowed is the caller's (a half-sent suggestion cannot be
  replayed). A host without the model is skipped for that request without being marked down.
* **Health** comes from the requests themselves; while a host is down a cheap probe (Ollama's
  ``/api/version``) runs every ``probe_interval`` seconds, and a host that answers is used again.
  Down hosts stay last resorts, so a pool whose every host was down recovers on the first
  request that gets through.

With one host the pool is transparent: its errors reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..provider import (
    AiProvider,
    ModelStore,
    ModelUnavailable,
    ProviderError,
    ProviderUnreachable,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds between probes of a host that is down.
PROBE_INTERVAL_S = 2.0
#: A probe that takes longer than this counts as a failure.
PROBE_TIMEOUT_S = 2.0


@dataclass(eq=False)
class Member:
    """One host of the pool: its provider, its store (``None``: not an Ollama), its health."""

    host: str
    provider: AiProvider
    store: ModelStore | None
    probe: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[None]] | None = None
    #: ``"unknown"`` until a request or probe tells, then ``"up"`` or ``"down"``.
    state: str = "unknown"
    error: str | None = None
    served: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "state": self.state, "error": self.error, "served": self.served}


class PoolUnreachable(ProviderUnreachable):
    """Every host of a pool failed: the message names each and why."""

    def __init__(self, failures: Sequence[tuple[Member, ProviderError]]) -> None:
        hosts = ", ".join(m.host for m, _ in failures)
        reasons = "; ".join(f"{m.host}: {e.message}" for m, e in failures)
        super().__init__(f"No host of the pool ({hosts}) could answer — {reasons}")
        self.host = hosts


def fails_over(error: ProviderError) -> bool:
    """Whether another host may succeed where this one failed (and this one is unwell)."""
    if isinstance(error, ProviderUnreachable) or error.unanswered:
        return True
    status = getattr(error, "status", None)
    if isinstance(status, int) and status >= 500:
        return True
    # A dry connection pool or a timeout: the host is overloaded or wedged.
    return type(error).__name__ in {"PoolExhausted", "OllamaTimeout", "OpenAITimeout"}


def _weight(affinity: str, host: str) -> bytes:
    return hashlib.blake2b(f"{affinity}\0{host}".encode(), digest_size=8).digest()


class HostPool:
    """The hosts, their health, and the order a request tries them in."""

    def __init__(
        self, members: Sequence[Member] = (), *, probe_interval: float = PROBE_INTERVAL_S
    ) -> None:
        self.members: list[Member] = list(members)
        self.probe_interval = probe_interval
        self._probing: asyncio.Task[None] | None = None
        #: Set whenever a host comes back (tests and ``check`` wait on it instead of polling).
        self.recovered = asyncio.Event()

    @property
    def host(self) -> str:
        """Where we talk to, for messages: the first host that is not down."""
        member = self.order()[0] if self.members else None
        return member.host if member else ""

    def replace(self, members: Sequence[Member]) -> list[Member]:
        """New hosts from new settings; returns the old members for the caller to close."""
        old, self.members = self.members, list(members)
        if self._probing is not None:
            self._probing.cancel()
            self._probing = None
        return old

    def order(self, affinity: str = "") -> list[Member]:
        """Hosts to try, best first: up (or unknown) ones, then down ones as last resorts."""
        healthy = [m for m in self.members if m.state != "down"]
        down = [m for m in self.members if m.state == "down"]
        if affinity:
            healthy.sort(key=lambda m: _weight(affinity, m.host), reverse=True)
            down.sort(key=lambda m: _weight(affinity, m.host), reverse=True)
        return healthy + down

    def status(self) -> list[dict[str, Any]]:
        return [m.to_json() for m in self.members]

    # -- health -------------------------------------------------------------------------------

    def succeeded(self, member: Member) -> None:
        member.served += 1
        if member.state == "down":
            log.info("ollama-lsp: %s answers again; using it", member.host)
            self._recover()
        member.state, member.error = "up", None

    def failed(self, member: Member, error: ProviderError) -> None:
        if member.state != "down" and len(self.members) > 1:
            log.warning("ollama-lsp: %s is down (%s); using the other hosts", member.host,
                        error.message)  # fmt: skip
        member.state, member.error = "down", error.message
        if len(self.members) > 1:
            self._start_probing()

    def _recover(self) -> None:
        self.recovered.set()

    def _start_probing(self) -> None:
        if self._probing is None or self._probing.done():
            self._probing = asyncio.get_running_loop().create_task(self._probe_loop())

    async def _probe_loop(self) -> None:
        while any(m.state == "down" for m in self.members):
            await asyncio.sleep(self.probe_interval)  # production pacing, not a test wait
            for member in [m for m in self.members if m.state == "down"]:
                try:
                    async with asyncio.timeout(PROBE_TIMEOUT_S):
                        await member.probe()
                except (ProviderError, TimeoutError) as exc:
                    member.error = getattr(exc, "message", None) or "no answer to the probe"
                    continue
                log.info("ollama-lsp: %s is reachable again", member.host)
                member.state, member.error = "up", None
                self._recover()

    # -- requests -------------------------------------------------------------------------------

    async def call(self, fn: Callable[[Member], Awaitable[T]], affinity: str = "") -> T:
        """``fn`` on the best host, failing over to the next."""
        failures: list[tuple[Member, ProviderError]] = []
        for member in self.order(affinity):
            try:
                result = await fn(member)
            except ProviderError as exc:
                if not self._try_next(member, exc, failures):
                    raise
                continue
            self.succeeded(member)
            return result
        raise self._all_failed(failures)

    async def stream(
        self, fn: Callable[[Member], AsyncIterator[T]], affinity: str = ""
    ) -> AsyncIterator[T]:
        """``fn``'s stream from the best host; fails over only before its first item."""
        failures: list[tuple[Member, ProviderError]] = []
        for member in self.order(affinity):
            started = False
            try:
                async with aclosing(fn(member)) as items:
                    async for item in items:
                        if not started:
                            started = True
                            self.succeeded(member)
                        yield item
            except ProviderError as exc:
                if started or not self._try_next(member, exc, failures):
                    raise
                continue
            if not started:
                self.succeeded(member)
            return
        raise self._all_failed(failures)

    def _try_next(
        self, member: Member, error: ProviderError, failures: list[tuple[Member, ProviderError]]
    ) -> bool:
        """Record ``error``; whether the request should go on to the next host."""
        if isinstance(error, ModelUnavailable) and len(self.members) > 1:
            failures.append((member, error))  # this host lacks the model; it is not down
            return True
        if not fails_over(error):
            return False
        self.failed(member, error)
        failures.append((member, error))
        return len(self.members) > 1

    def _all_failed(self, failures: list[tuple[Member, ProviderError]]) -> ProviderError:
        if not failures:
            return ProviderUnreachable("no Ollama host is configured — set `ollama.host`")
        missing = [e for _, e in failures if isinstance(e, ModelUnavailable)]
        if missing:
            return missing[0]  # a host was up but lacks the model: offer the pull
        if len(failures) == 1:
            return failures[0][1]
        return PoolUnreachable(failures)
