"""The one place that owns the HTTP clients, and hands out what is built on them.

Settings name *where* (``host``: one or a pool), *what speaks there* (``api``: Ollama or an
OpenAI-compatible server) and *how to get in* (``headers``, ``tls.caFile``, ``user:pass@``).
``Backend`` turns those into one client per host, a ``HostPool`` over them, and the two views the
rest of the server uses — the pool as the engine's ``AiProvider`` and as the model manager's
``ModelStore`` — which stay the same objects for the life of the server, so nobody holds a stale
client after a settings change (the shape of esbonio's ``SphinxManager(client_factory)``).

Secrets are read here and nowhere else: ``${env:NAME}`` in header values is expanded when the
clients are built, and only header *names* ever reach a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import is_header_value
from .envrefs import MissingVariable, expand
from .hosts import HostPool, Member, PooledProvider, PooledStore
from .http.endpoint import Endpoint, parse_endpoint
from .http.tls import TlsSetupError, client_context
from .ollama.client import OllamaClient
from .ollama.provider import OllamaProvider
from .redact import secret_filter

log = logging.getLogger(__name__)

KeepAlive = str | int | float | None


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Everything that decides which clients exist; equal configs keep the clients."""

    endpoints: tuple[Endpoint, ...]
    api: str = "ollama"
    #: Header values as the settings wrote them (``${env:…}`` unexpanded).
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    ca_file: str | None = None
    #: llama-server's slot for our prompts (``id_slot``); -1: the server picks.
    slot: int = 0
    #: llama-server's second slot, for prefills of a wider window; -1: none.
    spare_slot: int = 1


def config_from(settings: Any, fallback: Endpoint) -> BackendConfig:
    """The backend part of ``settings``; ``fallback`` (OLLAMA_HOST or the default) when the
    settings name no host. Hosts were checked when the settings were parsed."""
    hosts = tuple(parse_endpoint(h) for h in settings.hosts) or (fallback,)
    return BackendConfig(
        hosts,
        settings.api,
        tuple(settings.headers),
        settings.tls.ca_file,
        settings.slot,
        settings.spare_slot,
    )


MemberFactory = Callable[[Endpoint, BackendConfig, Mapping[str, str], Any], Member]


def ollama_member(
    endpoint: Endpoint, config: BackendConfig, headers: Mapping[str, str], verify: Any
) -> Member:
    client = OllamaClient(endpoint, headers=headers, verify=verify)
    provider = OllamaProvider(client)
    return Member(client.host, provider, provider, probe=client.version, close=client.aclose)


def openai_member(
    endpoint: Endpoint, config: BackendConfig, headers: Mapping[str, str], verify: Any
) -> Member:
    from .openai import OpenAIClient, OpenAIProvider  # only servers that use it import it

    client = OpenAIClient(endpoint, headers=headers, verify=verify)
    provider = OpenAIProvider(client, slot=config.slot, spare_slot=config.spare_slot)
    return Member(client.host, provider, None, probe=provider.version, close=client.aclose)


FACTORIES: dict[str, MemberFactory] = {"ollama": ollama_member, "openai": openai_member}


class Backend:
    """Owns one client per configured host; rebuilds them when the backend settings change."""

    def __init__(self, config: BackendConfig, *, keep_alive: KeepAlive = None) -> None:
        self.pool = HostPool()
        self.provider = PooledProvider(self.pool)
        self.store = PooledStore(self.pool)
        self.config: BackendConfig | None = None
        self.keep_alive = keep_alive
        #: What went wrong building the clients (a missing variable, an unreadable CA file),
        #: for the server to show once; the clients are built anyway, without that part.
        self.problems: list[str] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.configure(config)

    @property
    def host(self) -> str:
        """Where we talk to, as users see it (never a secret)."""
        return self.pool.host

    @property
    def api(self) -> str:
        return self.config.api if self.config else "ollama"

    def configure(self, config: BackendConfig, keep_alive: KeepAlive | None = None) -> bool:
        """Use ``config``; whether the clients were rebuilt (then model facts start afresh)."""
        if keep_alive is not None:
            self.keep_alive = keep_alive
        changed = config != self.config
        if changed:
            self.problems = []
            headers = self._headers(config.headers)
            verify = self._verify(config)
            make = FACTORIES[config.api]
            members = [make(e, config, headers, verify) for e in _unique(config.endpoints)]
            self.config = config
            for old in self.pool.replace(members):
                self._close(old)
        for member in self.pool.members:
            if isinstance(member.provider, OllamaProvider):
                member.provider.keep_alive = self.keep_alive
        return changed

    def status(self) -> list[dict[str, Any]]:
        return self.pool.status()

    async def aclose(self) -> None:
        for member in self.pool.replace([]):
            self._close(member)
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=3.0)

    def _headers(self, headers: Sequence[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            try:
                expanded = expand(value)
            except MissingVariable as exc:
                # Left out rather than sent as the literal reference: the message says why,
                # and the proxy's 401 that follows is then no puzzle.
                self.problems.append(
                    f"ollama.headers.{name}: {exc}; sending it without that header"
                )
                continue
            if not is_header_value(expanded):
                # h11 would refuse it with an error that quotes the value: never let it try.
                self.problems.append(
                    f"ollama.headers.{name}: the value its ${{env:…}} gives is not a valid "
                    "header value (a line break or control character); sending it without "
                    "that header"
                )
                continue
            # Masked in every log line from now on: the value, and the credential after a
            # scheme (``Bearer <token>``), which may be logged on its own.
            secret_filter.secrets.update({expanded, expanded.rpartition(" ")[2]} - {""})
            out[name] = expanded
        return out

    def _verify(self, config: BackendConfig) -> Any:
        if not any(e.url.startswith("https://") for e in config.endpoints):
            return True
        try:
            return client_context(config.ca_file)
        except TlsSetupError as exc:
            self.problems.append(f"{exc}; using the system's certificates only")
            return client_context(None)

    def _close(self, member: Member) -> None:
        if member.close is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(member.close())
        except RuntimeError:  # no loop (building before the server runs): nothing is open
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


def _unique(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    return list(dict.fromkeys(endpoints))
