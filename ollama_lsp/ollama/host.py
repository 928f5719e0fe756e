"""Turn an ``OLLAMA_HOST`` value into the base URL the client talks to.

Users already have ``OLLAMA_HOST`` set for Ollama itself, so we accept exactly the forms
Ollama's own ``envconfig.Host`` accepts (``host``, ``host:port``, ``:port``, ``[v6]:port``,
``http(s)://host[:port][/path]``) with the same defaults: scheme ``http``, port 11434 when
no scheme is given, 80/443 when one is. One difference on purpose: ``0.0.0.0`` and ``::``
are bind-all addresses people set so that *the server* listens everywhere; a client cannot
meaningfully connect to them, so we dial loopback instead.
"""

from __future__ import annotations

import ipaddress
import os

DEFAULT_PORT = 11434
DEFAULT_HOST = f"http://127.0.0.1:{DEFAULT_PORT}"
_UNSPECIFIED = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def parse_host(value: str | None) -> str:
    """Return ``scheme://host:port[/path]`` for an ``OLLAMA_HOST``-style value."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_HOST
    scheme, sep, hostport = value.partition("://")
    default_port = DEFAULT_PORT
    if not sep:
        scheme, hostport = "http", value
    elif scheme == "http":
        default_port = 80
    elif scheme == "https":
        default_port = 443
    hostport, _, path = hostport.partition("/")
    host, port = _split_host_port(hostport, default_port)
    host = _UNSPECIFIED.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    url = f"{scheme}://{host}:{port}"
    return f"{url}/{path.rstrip('/')}" if path.strip("/") else url


def host_from_env(environ: dict[str, str] | None = None) -> str:
    """The base URL from ``OLLAMA_HOST`` in ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return parse_host(env.get("OLLAMA_HOST"))


def _split_host_port(hostport: str, default_port: int) -> tuple[str, int]:
    host, port_text = hostport, ""
    if hostport.startswith("["):
        inside, _, rest = hostport[1:].partition("]")
        host, port_text = inside, rest.removeprefix(":")
    elif hostport.count(":") == 1:
        host, port_text = hostport.split(":")
    elif _is_ip(hostport):
        host = hostport
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        port = default_port
    if not 0 <= port <= 65535:
        port = default_port
    return host or "127.0.0.1", port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
