"""The nginx config itself, with a plain HTTP client: what a team relies on before any editor.

Auth answers 401 in Ollama's error shape, TLS verifies against the team's CA, NDJSON streams
flow line by line, a dead upstream costs no POST, and the README shows exactly this file.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from pathlib import Path

import httpx
import pytest

from tests.ollama.hostile import Received, hostile_server, send

from .certs import Certs
from .conftest import ANSWER, TOKEN
from .nginx import CONFIG, Nginx, need_nginx
from .upstreams import Upstream

README = Path(__file__).parents[2] / "README.md"
GENERATE = {"model": "codellama:7b-code", "prompt": "def add(a, b):", "raw": True}


def trust(certs: Certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs.ca)


def authorized(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, authorized("wrong"), {"Authorization": TOKEN}])
def test_a_missing_or_wrong_token_is_a_401_in_ollamas_error_shape(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream], headers: dict[str, str]
) -> None:
    answer = httpx.get(f"{nginx.https_url}/api/tags", headers=headers, verify=trust(certs))
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized"}
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert not any(u.double.requests for u in upstreams if u.double)  # never reached Ollama


def test_the_token_opens_https_and_stays_at_nginx(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    answer = httpx.get(f"{nginx.https_url}/api/version", headers=authorized(), verify=trust(certs))
    assert answer.status_code == 200 and "version" in answer.json()
    log = nginx.logged(" team ")
    assert " team " in log and TOKEN not in log


async def test_ollama_sees_neither_the_token_nor_a_host_name_it_would_refuse(certs: Certs) -> None:
    """An Ollama bound to loopback answers 403 to unknown Host names; the token is nginx's."""

    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        await send(writer, 200, {"version": "0.12.0"})

    async with hostile_server(answer) as ollama:
        proxy = Nginx(
            upstreams=(ollama.host, ollama.host),
            cert=certs.cert,
            key=certs.key,
            token=TOKEN,
            binary=need_nginx(),
        )
        with proxy:
            async with httpx.AsyncClient(verify=trust(certs), headers=authorized()) as http:
                answered = await http.get(f"{proxy.https_url}/api/version")
    assert answered.json() == {"version": "0.12.0"}
    (seen,) = ollama.received
    assert seen.headers["host"] == "localhost"
    assert "authorization" not in seen.headers
    assert TOKEN not in repr(seen)


def test_tls_is_verified_against_the_teams_ca(nginx: Nginx) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{nginx.https_url}/api/version", headers=authorized())


def test_ndjson_streams_flow_line_by_line(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    """With proxy buffering on, the lines would arrive together at the end."""
    for upstream in upstreams:
        assert upstream.double is not None
        upstream.double.latency.per_token_s = 0.1
    arrivals = []
    with httpx.Client(verify=trust(certs), headers=authorized()) as http:
        start = time.monotonic()
        with http.stream("POST", f"{nginx.https_url}/api/generate", json=GENERATE) as answer:
            for line in answer.iter_lines():
                arrivals.append((time.monotonic() - start, json.loads(line)))
    text = "".join(chunk.get("response", "") for _, chunk in arrivals)
    assert text == ANSWER and arrivals[-1][1]["done"]
    tokens = len(re.findall(r"\s+|\w+|[^\w\s]", ANSWER))
    assert arrivals[0][0] < arrivals[-1][0] - (tokens - 2) * 0.1  # the first came long before


def test_a_dead_upstream_costs_no_request(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    """POSTs are retried on the other server (non_idempotent), also on a reused connection."""
    with httpx.Client(verify=trust(certs), headers=authorized()) as http:
        url = f"{nginx.https_url}/api/generate"
        assert http.post(url, json={**GENERATE, "stream": False}).json()["response"] == ANSWER
        (serving,) = [u for u in upstreams if u.completions()]
        (other,) = [u for u in upstreams if u is not serving]
        serving.kill()
        for _ in range(5):
            answer = http.post(url, json={**GENERATE, "stream": False})
            assert answer.status_code == 200, answer.text
            assert answer.json()["response"] == ANSWER
        assert len(other.completions()) == 5


def test_nginx_keeps_its_connections_to_ollama_alive(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    with httpx.Client(verify=trust(certs), headers=authorized()) as http:
        for _ in range(6):
            answer = http.post(
                f"{nginx.https_url}/api/generate", json={**GENERATE, "stream": False}
            )
            assert answer.status_code == 200
    (serving,) = [u for u in upstreams if u.completions()]
    assert len(serving.completions()) == 6
    assert len({r.peer for r in serving.completions()}) <= 2  # one per nginx worker at most


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_post_answered_with_a_gateway_error_is_sent_to_the_other_server(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream], status: int
) -> None:
    """The POST reached Ollama, so only ``non_idempotent`` lets nginx send it again."""
    with httpx.Client(verify=trust(certs), headers=authorized()) as http:
        url = f"{nginx.https_url}/api/generate"
        assert http.post(url, json={**GENERATE, "stream": False}).status_code == 200
        (serving,) = [u for u in upstreams if u.completions()]
        (other,) = [u for u in upstreams if u is not serving]
        assert serving.double is not None
        serving.double.inject_fault("http_error", status=status, times=None)
        answer = http.post(url, json=GENERATE)
        assert answer.status_code == 200, answer.text
        assert "".join(json.loads(line)["response"] for line in answer.iter_lines()) == ANSWER
    assert [r.status for r in serving.double.requests_to("/api/generate")][-1] == status
    assert len(other.completions()) == 1


def test_all_upstreams_down_is_an_ollama_style_error(
    nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    for upstream in upstreams:
        upstream.kill()
    answer = httpx.get(f"{nginx.https_url}/api/version", headers=authorized(), verify=trust(certs))
    assert answer.status_code == 502
    assert "no Ollama server" in answer.json()["error"]


def test_the_readme_shows_exactly_this_config() -> None:
    blocks = re.findall(r"```nginx\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README.md has no ```nginx block (section: Sharing a GPU server with your team)"
    assert CONFIG.read_text() in blocks
