"""The remote rig: a test CA, two Ollama doubles, nginx in front of them, ``ollama-lsp`` on stdio.

``certs`` is made once per session; ``upstreams`` are two doubles (``a``, ``b``) that a test
may kill and restart; ``nginx`` serves ``nginx.conf`` (the README's) in front of them with
``TOKEN``. ``start_remote(settings, env=...)`` starts the real server with only the given
settings and environment (no ``OLLAMA_HOST``, no ``SSL_CERT_FILE`` unless given), logging at
DEBUG to a file that ``Session.everything_said()`` reads with its messages and log messages.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER_COMMAND, inline_client_capabilities, quiet_background

from .certs import Certs, make_certs
from .nginx import Nginx, need_nginx
from .upstreams import Upstream

#: The team's token, new each session; every test checks it is never shown.
TOKEN = f"olt-{secrets.token_hex(16)}"
TOKEN_ENV = "OLLAMA_LSP_TOKEN"
BEARER = "Bearer ${env:OLLAMA_LSP_TOKEN}"
ANSWER = "return a + b"
#: What the server must not inherit from the test's environment: each test says what it has.
SCRUBBED = ("OLLAMA_HOST", "SSL_CERT_FILE", "SSL_CERT_DIR", TOKEN_ENV)


@dataclass
class Session:
    client: LanguageClient
    log_file: Path

    def everything_said(self) -> str:
        """Every message, log message and log line the server produced so far."""
        said = [m.message for m in self.client.messages]
        said += [m.message for m in self.client.log_messages]
        if self.log_file.exists():
            said.append(self.log_file.read_text(errors="replace"))
        return "\n".join(said)

    def popups(self) -> list[str]:
        return [m.message for m in self.client.messages]

    async def run(self, command: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )

    async def status(self) -> dict[str, Any]:
        return await self.run("ollama.status")

    async def assert_secret_kept(self, secret: str = TOKEN) -> None:
        status = json.dumps(await self.status())
        assert secret not in status
        assert secret not in self.everything_said()


StartRemote = Callable[..., Awaitable[Session]]


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def upstreams() -> Iterator[tuple[Upstream, Upstream]]:
    """Two doubles answering ``ANSWER``; streamed a token per 5 ms, so a kill can cut one."""
    a = Upstream("a", ANSWER, per_token_s=0.005)
    b = Upstream("b", ANSWER, per_token_s=0.005)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


@pytest.fixture
def nginx(certs: Certs, upstreams: tuple[Upstream, Upstream]) -> Iterator[Nginx]:
    binary = need_nginx()
    proxy = Nginx(
        upstreams=(upstreams[0].host, upstreams[1].host),
        cert=certs.cert,
        key=certs.key,
        token=TOKEN,
        binary=binary,
    )
    with proxy:
        yield proxy
        # Shown by pytest only when the test failed: what nginx saw and said.
        print(proxy.logs())
        if proxy.access_log.exists():
            print(f"--- {proxy.access_log}\n{proxy.access_log.read_text()}")


def behind_nginx(nginx: Nginx, certs: Certs | None, **more: Any) -> dict[str, Any]:
    """The settings a team member uses: the HTTPS host, the token header, the team's CA."""
    settings: dict[str, Any] = {"host": nginx.https_url, "headers": {"Authorization": BEARER}}
    if certs is not None:
        settings["tls"] = {"caFile": str(certs.ca)}
    return {**settings, **more}


@pytest.fixture
async def start_remote(tmp_path: Path) -> AsyncIterator[StartRemote]:
    sessions: list[Session] = []

    async def start(settings: dict[str, Any], *, env: dict[str, str] | None = None) -> Session:
        log_file = tmp_path / f"server-{len(sessions)}.log"
        command = [*SERVER_COMMAND, "--log-level", "DEBUG", "--log-file", str(log_file)]
        server_env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        config = ClientServerConfig(
            server_command=command, server_env={**server_env, **(env or {})}
        )
        client = await config.start()
        session = Session(client, log_file)
        sessions.append(session)
        client.initialize_result = await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_client_capabilities(),
                initialization_options=quiet_background(settings),
            )
        )
        return session

    yield start
    for session in sessions:
        if not session.client.stopped:
            await session.client.shutdown_session()
            await session.client.stop()
