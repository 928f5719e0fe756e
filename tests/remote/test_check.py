"""``ollama-lsp check --settings FILE`` on the team's setup: each host's state, never the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .certs import Certs
from .conftest import SCRUBBED, TOKEN, TOKEN_ENV, behind_nginx
from .nginx import Nginx
from .upstreams import Upstream


def check(tmp_path: Path, settings: dict[str, Any], env: dict[str, str] | None = None) -> tuple:
    """(exit code, output) of ``ollama-lsp check`` with ``settings`` as the editor's file."""
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"ollama": settings}))
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    done = subprocess.run(
        [sys.executable, "-m", "ollama_lsp", "check", "--settings", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
    )
    return done.returncode, done.stdout + done.stderr


def test_check_through_nginx_says_up_and_ready(
    tmp_path: Path, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    code, out = check(tmp_path, behind_nginx(nginx, certs), {TOKEN_ENV: TOKEN})
    assert code == 0, out
    assert f"at {nginx.https_url}: up" in out and "Ready" in out
    assert TOKEN not in out


def test_check_with_a_wrong_token_names_the_credentials(
    tmp_path: Path, nginx: Nginx, certs: Certs, upstreams: tuple[Upstream, Upstream]
) -> None:
    code, out = check(tmp_path, behind_nginx(nginx, certs), {TOKEN_ENV: "olt-wrong"})
    assert code == 1, out
    assert f"{nginx.https_url}: down" in out and "401" in out and "ollama.headers" in out
    assert "olt-wrong" not in out


def test_check_of_a_pool_shows_the_dead_host_down_and_the_other_up(
    tmp_path: Path, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    a.kill()
    code, out = check(tmp_path, {"host": [a.url, b.url]})
    assert code == 0, out
    assert f"{a.url}: down" in out
    assert f"at {b.url}: up" in out
