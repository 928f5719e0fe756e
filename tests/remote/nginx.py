"""Debian's nginx as a test rig: the README's config rendered into a private prefix and run.

``Nginx(values).start()`` renders ``nginx.conf`` (its ``{{placeholders}}`` filled from
``values``) into a new prefix directory, runs ``nginx -p PREFIX -c nginx.conf`` in the
foreground, and returns once both listeners accept connections; ``stop()`` ends it. A start
that fails raises with nginx's own error log, which is where it says why.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CONFIG = Path(__file__).with_name("nginx.conf")
NGINX = "/usr/sbin/nginx"
REQUIRE_ENV = "OLLAMA_LSP_REQUIRE_NGINX"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0
_BIND_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """nginx could not bind a port chosen as free: someone else bound it first."""


def nginx_binary() -> str | None:
    """The nginx to run, or None when it is not installed."""
    if os.access(NGINX, os.X_OK):
        return NGINX
    return shutil.which("nginx")


def need_nginx() -> str:
    """nginx's path; skips the test without it, or fails it when CI requires nginx."""
    binary = nginx_binary()
    if binary is not None:
        return binary
    reason = "nginx is not installed (apt-get install -y nginx-light)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def render(template: str, values: dict[str, str]) -> str:
    """The template with every ``{{name}}`` replaced; a missing or extra value is an error."""
    wanted = placeholders(template)
    if wanted != set(values):
        raise KeyError(f"placeholders {sorted(wanted)} but values for {sorted(values)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """One nginx instance serving ``nginx.conf`` on two fresh loopback ports."""

    def __init__(
        self, *, upstreams: tuple[str, str], cert: Path, key: Path, token: str, binary: str
    ) -> None:
        self.https_port, self.http_port = free_port(), free_port()
        self.values = {
            "token": token,
            "upstream_a": upstreams[0],
            "upstream_b": upstreams[1],
            "listen": f"127.0.0.1:{self.https_port}",
            "loopback_http": f"127.0.0.1:{self.http_port}",
            "cert": str(cert),
            "key": str(key),
        }
        self.binary = binary
        self.prefix = Path(tempfile.mkdtemp(prefix="ollama-lsp-nginx-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    def logged(self, text: str, timeout: float = 5.0) -> str:
        """The access log once it contains ``text`` (or as it is after ``timeout``): nginx
        writes a request's line in its log phase, after the response went out, so a client
        that just got its answer may read the log before the line is there."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.access_log.read_text() if self.access_log.exists() else ""
            if text in log or time.monotonic() >= deadline:
                return log
            time.sleep(0.02)  # a file has no event to wait on

    def start(self) -> Nginx:
        # The workers run as nobody (the master is root): they must reach the prefix.
        self.prefix.chmod(0o755)
        for sub in ("logs", "temp"):
            (self.prefix / sub).mkdir()
        for attempt in range(_BIND_ATTEMPTS):
            try:
                self._run()
                return self
            except PortTaken:
                if attempt == _BIND_ATTEMPTS - 1:
                    raise
                self._new_ports()  # another process took a port between choosing and binding
        return self

    def _new_ports(self) -> None:
        self.https_port, self.http_port = free_port(), free_port()
        self.values["listen"] = f"127.0.0.1:{self.https_port}"
        self.values["loopback_http"] = f"127.0.0.1:{self.http_port}"

    def _run(self) -> None:
        self.error_log.unlink(missing_ok=True)  # only this attempt's errors explain its failure
        conf = self.prefix / "nginx.conf"
        conf.write_text(render(CONFIG.read_text(), self.values))
        pid = self.prefix / "nginx.pid"
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(conf), "-g", f"daemon off; pid {pid};"],
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "logs" / "stderr.log").open("wb"),
        )
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self) -> None:
        """Connect to both ports until they accept: nginx has no readiness signal."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        pending = [self.https_port, self.http_port]
        while pending:
            assert self.proc is not None
            if self.proc.poll() is not None:
                if "Address already in use" in self.logs():
                    raise PortTaken(self.logs())
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5).close()
                pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not listen in time:\n{self.logs()}") from None
                time.sleep(0.02)

    def logs(self) -> str:
        """nginx's stderr and error log, to show when something went wrong."""
        parts = []
        for path in (self.prefix / "logs" / "stderr.log", self.error_log):
            if path.exists() and path.read_text().strip():
                parts.append(f"--- {path}\n{path.read_text()}")
        return "\n".join(parts) or "(nginx logged nothing)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.proc.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
