"""A team member's editor session against the shared GPU servers: HTTPS, a Bearer token, nginx.

The real ``ollama-lsp`` process talks to nginx (``nginx.conf``, the README's) in front of two
Ollama doubles. The token reaches the server through its environment
(``${env:OLLAMA_LSP_TOKEN}`` in ``ollama.headers``), or written into the settings, and must
never come back out: not in a message, a log line (DEBUG, to a file) or ``ollama.status``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from tests.e2e.conftest import open_document

from .certs import Certs
from .conftest import ANSWER, TOKEN, TOKEN_ENV, StartRemote, behind_nginx
from .editing import DOC, STUBS, URI, Typist, complete
from .nginx import Nginx
from .upstreams import Upstream

PULLED = "codellama:7b-code-q8_0"


def progress_of(client: Any, title: str) -> list[Any]:
    (reports,) = [
        list(r) for r in client.progress_reports.values() if title in getattr(r[0], "title", "")
    ]
    return reports


async def test_completions_models_and_pulls_work_over_https_with_a_token(
    start_remote: StartRemote, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    session = await start_remote(behind_nginx(nginx, certs), env={TOKEN_ENV: TOKEN})
    client = session.client
    open_document(client, URI, DOC)
    assert await complete(client, 0) == [ANSWER]
    assert sum(len(u.completions()) for u in upstreams) == 1

    rows = {row["name"]: row for row in await session.run("ollama.listModels")}
    assert rows["codellama:7b-code"]["installed"] and rows["codellama:7b-code"]["active"]

    assert await session.run("ollama.pullModel", PULLED) == {"name": PULLED, "status": "success"}
    reports = progress_of(client, "Pulling")
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    percentages = [r.percentage for r in reports[1:-1] if r.percentage is not None]
    assert len(set(percentages)) >= 3 and percentages == sorted(percentages)
    rows = {row["name"]: row for row in await session.run("ollama.listModels")}
    assert rows[PULLED]["installed"]  # the same upstream answered: nginx hashes on the token

    (host,) = (await session.status())["hosts"]
    assert (host["host"], host["state"], host["error"]) == (nginx.https_url, "up", None)
    assert " team " in nginx.logged(" team ")  # nginx let every request in by the token
    await session.assert_secret_kept()


async def test_killing_the_serving_upstream_mid_session_loses_no_later_completion(
    start_remote: StartRemote, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    session = await start_remote(behind_nginx(nginx, certs), env={TOKEN_ENV: TOKEN})
    client = session.client
    open_document(client, URI, DOC)
    typist = Typist(client)
    for i in range(5):
        typist.type()
        assert await complete(client, i) == [ANSWER]
    (serving,) = [u for u in upstreams if u.completions()]
    (other,) = [u for u in upstreams if u is not serving]
    assert serving.double is not None

    last = max(r.id for r in serving.completions())
    in_flight = asyncio.ensure_future(complete(client, 5))
    await serving.double.wait_for_async(
        lambda r: r.id > last and r.path == "/api/generate" and r.phase == "streaming"
    )
    serving.kill()
    await in_flight  # answered, perhaps empty: it was cut mid-stream; it must not hang

    later = []
    for i in range(6, STUBS):
        typist.type()
        later.append(await complete(client, i))
    assert later == [[ANSWER]] * (STUBS - 6)
    assert len(other.completions()) >= STUBS - 6
    await session.assert_secret_kept()


async def test_a_wrong_token_is_one_clear_message_and_completions_answer_empty(
    start_remote: StartRemote, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    wrong = "olt-not-the-teams-token"
    session = await start_remote(behind_nginx(nginx, certs), env={TOKEN_ENV: wrong})
    client = session.client
    open_document(client, URI, DOC)
    typist = Typist(client)
    for i in range(8):
        typist.type()
        assert await complete(client, i) == []
    told = [m for m in session.popups() if "401" in m or "ollama.headers" in m]
    assert len(told) == 1, session.popups()
    assert "401" in told[0] and "ollama.headers" in told[0]
    assert "credentials" in told[0]
    assert not any(u.completions() for u in upstreams)
    (host,) = (await session.status())["hosts"]
    assert host["host"] == nginx.https_url and "401" in (host["error"] or ""), host
    await session.assert_secret_kept(wrong)


async def test_without_the_ca_file_one_plain_certificate_message_names_the_setting(
    start_remote: StartRemote, nginx: Nginx, upstreams: tuple[Upstream, Upstream]
) -> None:
    session = await start_remote(behind_nginx(nginx, None), env={TOKEN_ENV: TOKEN})
    client = session.client
    open_document(client, URI, DOC)
    typist = Typist(client)
    for i in range(5):
        typist.type()
        assert await complete(client, i) == []
    told = [m for m in session.popups() if "certificate" in m.lower()]
    assert len(told) == 1, session.popups()
    assert "ollama.tls.caFile" in told[0]
    assert "Traceback" not in told[0] and "SSLCertVerificationError" not in told[0]
    assert not any(u.completions() for u in upstreams)
    await session.assert_secret_kept()


async def test_ssl_cert_file_in_the_environment_is_trusted_instead(
    start_remote: StartRemote, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    session = await start_remote(
        behind_nginx(nginx, None), env={TOKEN_ENV: TOKEN, "SSL_CERT_FILE": str(certs.ca)}
    )
    open_document(session.client, URI, DOC)
    assert await complete(session.client, 0) == [ANSWER]
    assert not [m for m in session.popups() if "certificate" in m.lower()]
    await session.assert_secret_kept()


async def test_a_token_written_into_the_settings_is_not_logged_either(
    start_remote: StartRemote, nginx: Nginx, certs: Certs
) -> None:
    """Not every user uses ``${env:...}``: a literal token must stay just as secret."""
    settings = behind_nginx(nginx, certs, headers={"Authorization": f"Bearer {TOKEN}"})
    session = await start_remote(settings)
    open_document(session.client, URI, DOC)
    assert await complete(session.client, 0) == [ANSWER]
    await session.assert_secret_kept()


async def test_a_request_whose_upstream_dies_before_answering_is_answered_by_the_other(
    start_remote: StartRemote, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    """nginx sends the POST again (``non_idempotent``) when nothing came back yet."""
    session = await start_remote(behind_nginx(nginx, certs), env={TOKEN_ENV: TOKEN})
    client = session.client
    open_document(client, URI, DOC)
    assert await complete(client, 0) == [ANSWER]
    (serving,) = [u for u in upstreams if u.completions()]
    (other,) = [u for u in upstreams if u is not serving]
    assert serving.double is not None
    serving.double.inject_fault("hang")
    in_flight = asyncio.ensure_future(complete(client, 1))
    await serving.double.wait_for_async(lambda r: r.phase == "hanging")
    serving.kill()
    assert await in_flight == [ANSWER]
    assert len(other.completions()) == 1
