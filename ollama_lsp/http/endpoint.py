"""Turn an ``OLLAMA_HOST`` value into the endpoint the client talks to.

Users already have ``OLLAMA_HOST`` set for Ollama itself, so we accept the forms Ollama's own
``envconfig.Host`` accepts (``host``, ``host:port``, ``:port``, ``[v6]:port``,
``http(s)://host[:port][/path]``) with the same defaults: scheme ``http``, port 11434 when
no scheme is given, 80/443 when one is. Differences, each on purpose:

* ``0.0.0.0`` and ``::`` are bind-all addresses people set so that *the server* listens
  everywhere; a client cannot meaningfully connect to them, so we dial loopback instead.
* ``user:password@`` before the host (the usual form behind an authenticating proxy) is sent
  as HTTP Basic auth. The password never appears in anything we show or log: ``display``
  masks it, and ``redact_userinfo`` masks it in any text that may echo what the user typed.
* A value that cannot be dialled is refused with a reason (``HostError``) instead of being
  quietly replaced: Ollama swaps a bad port for the default, which makes a typo in the port
  dial :80 or :11434 and fail somewhere else; ``file://``, ``gopher://`` and other schemes
  are refused because only http and https reach Ollama.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

DEFAULT_PORT = 11434
DEFAULT_HOST = f"http://127.0.0.1:{DEFAULT_PORT}"
EXAMPLE = "http://127.0.0.1:11434"
_UNSPECIFIED = {"0.0.0.0": "127.0.0.1", "::": "::1"}
_SCHEMES = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"[A-Za-z0-9._~%-]+")
#: ``user:secret@`` right after ``scheme://`` or at the start of a bare ``host:port``.
_USERINFO = re.compile(r"(^|://)([^/?#@\s:]*):[^/?#\s]*@")


class HostError(ValueError):
    """A host value that cannot be dialled. The text says why and never holds a password."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where Ollama is: the URL to dial (no userinfo) and the Basic-auth credentials, if any."""

    url: str
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def display(self) -> str:
        """The URL as users see it: ``http://user:***@host:port``, never the password."""
        if not self.username and not self.password:
            return self.url
        scheme, _, rest = self.url.partition("://")
        secret = ":***" if self.password else ""
        return f"{scheme}://{quote(self.username, safe='')}{secret}@{rest}"

    @property
    def credentials(self) -> tuple[str, str] | None:
        """``(username, password)`` for HTTP Basic auth, or ``None`` without userinfo."""
        if not self.username and not self.password:
            return None
        return self.username, self.password

    def __str__(self) -> str:
        return self.display


def parse_endpoint(value: str | None) -> Endpoint:
    """The endpoint for an ``OLLAMA_HOST``-style value; raises ``HostError`` saying why not."""
    value = (value or "").strip()
    if not value:
        return Endpoint(DEFAULT_HOST)
    if any(c.isspace() or not c.isprintable() for c in value):
        raise HostError(f"a host without spaces, such as {EXAMPLE}")
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest, default_port = "http", value, DEFAULT_PORT
    else:
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            raise HostError(
                f"an http:// or https:// URL such as {EXAMPLE} ({scheme}:// cannot reach Ollama)"
            )
        default_port = _SCHEMES[scheme]
    hostport, _, path = rest.partition("/")
    if any(c in rest for c in "?#"):
        raise HostError(f"a host URL without a query or fragment, such as {EXAMPLE}")
    userinfo, at, hostport = hostport.rpartition("@")
    username, _, password = userinfo.partition(":")
    host, port = _split_host_port(hostport, default_port)
    host = _UNSPECIFIED.get(host, host)
    url = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    if path.strip("/"):
        url += "/" + path.strip("/")
    if not at:
        return Endpoint(url)
    return Endpoint(url, unquote(username), unquote(password))


def parse_host(value: str | None) -> str:
    """``scheme://host:port[/path]`` as shown to users (credentials masked)."""
    return parse_endpoint(value).display


def endpoint_or_default(value: str | None, source: str) -> tuple[Endpoint, str | None]:
    """The endpoint for ``value``, or the default and a message naming ``source`` if bad.

    For values given at start (``OLLAMA_HOST``, ``--ollama-host``): the server must still start,
    so a bad value falls back to the default and the caller tells the user once.
    """
    try:
        return parse_endpoint(value), None
    except HostError as exc:
        return Endpoint(DEFAULT_HOST), (
            f"{source}: expected {exc}, got {redact_userinfo(value or '')!r} — "
            f"using {DEFAULT_HOST} instead"
        )


def host_from_env(environ: dict[str, str] | None = None) -> str | None:
    """The raw ``OLLAMA_HOST`` value in ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return env.get("OLLAMA_HOST")


def redact_userinfo(text: str) -> str:
    """``text`` with any ``user:password@`` in it shown as ``user:***@``."""
    return _USERINFO.sub(r"\1\2:***@", text)


def _split_host_port(hostport: str, default_port: int) -> tuple[str, int]:
    host, port_text = hostport, ""
    if hostport.startswith("["):
        inside, closed, rest = hostport[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise HostError(f"an IPv6 host in brackets, such as http://[::1]:{DEFAULT_PORT}")
        host, port_text = inside, rest.removeprefix(":")
        if not _is_ip(host):
            raise HostError(f"an IPv6 address in brackets, such as http://[::1]:{DEFAULT_PORT}")
    elif hostport.count(":") == 1:
        host, port_text = hostport.split(":")
    elif ":" in hostport and not _is_ip(hostport):
        raise HostError(f"an IPv6 host in brackets, such as http://[::1]:{DEFAULT_PORT}")
    if host and not _is_ip(host) and not _HOSTNAME.fullmatch(host):
        raise HostError(f"a host name or IP address, such as {EXAMPLE}")
    return host or "127.0.0.1", _port(port_text, default_port)


def _port(text: str, default_port: int) -> int:
    if not text:
        return default_port
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise HostError(f"a port from 1 to 65535, such as {EXAMPLE}")
    return int(text)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
