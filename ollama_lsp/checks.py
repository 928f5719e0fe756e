"""What a valid setting is: each check returns the value to store, or raises ``Invalid``
saying what is wanted (the settings tree in ``settings`` names which check each key uses).

Kept apart from the tree so that the tree reads as the list of keys it is, and the rules
(HTTP header syntax, host lists, durations Ollama understands) are tested on their own.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from .http.endpoint import EXAMPLE, Endpoint, HostError, parse_endpoint, redact_userinfo

MAX_HOSTS = 16

Multiline = Literal["auto", "always", "never"]
Api = Literal["ollama", "openai"]
KeepAlive = str | int | float
Headers = tuple[tuple[str, str], ...]

_JSON_TYPES = {str: "string", list: "list", int: "number", float: "number", bool: "boolean"}
_DURATION = re.compile(r"-?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+")
#: RFC 9110 ``token``: what a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Visible ASCII with spaces and tabs inside: a CR/LF could split the request, and anything
#: h11 refuses it refuses with the value in the message, which must never reach a log.
_FIELD_VALUE = re.compile(r"([\x21-\x7e]+([ \t]+[\x21-\x7e]+)*)?")


class Invalid(ValueError):
    """A refused value; ``got`` replaces the value in the message when it must not be shown."""

    def __init__(self, wanted: str, got: str | None = None) -> None:
        super().__init__(wanted)
        self.got = got


# -- checks: return the value to store, or raise ValueError with what is wanted --------------


def between(lo: float, hi: float, whole: bool) -> Callable[[Any], Any]:
    wanted = f"a whole number from {lo} to {hi}" if whole else f"a number from {lo:g} to {hi:g}"

    def check(value: Any) -> Any:
        # the range first: int() of an infinity (json reads "Infinity") would raise OverflowError
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise ValueError(wanted)
        if whole and value != int(value):
            raise ValueError(wanted)
        return int(value) if whole else float(value)

    return check


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def model_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise ValueError("a model name such as codellama:7b-code")
    return value.strip()


def hosts(value: Any) -> tuple[str, ...]:
    """Refuse here, not when dialling, so that a bad host never half-applies new settings."""
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return ()
    many = isinstance(value, list)
    wanted = f"a host such as {EXAMPLE}, or a list of 1 to {MAX_HOSTS} hosts"
    if not (many or isinstance(value, str)) or (many and len(value) > MAX_HOSTS):
        raise ValueError(wanted)
    kept: dict[Endpoint, str] = {}
    for number, item in enumerate(value if many else [value], 1):
        where = f" (host {number})" if many else ""
        if not isinstance(item, str) or not item.strip():
            raise ValueError(wanted + where)
        try:
            kept.setdefault(parse_endpoint(item), item.strip())  # one host spelled twice: once
        except HostError as exc:
            raise ValueError(f"{exc}{where}") from None
    return tuple(kept.values())


def api(value: Any) -> Api:
    if value in ("ollama", "openai"):
        return value
    raise ValueError('"ollama", or "openai" for an OpenAI-compatible /v1/completions server')


def headers(value: Any) -> Headers:
    """Values keep ``${env:NAME}`` as written: it is filled in when sending, never stored."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise Invalid(
            'an object of header names to values, such as {"Authorization": '
            '"Bearer ${env:OLLAMA_LSP_TOKEN}"}',
            got=f"a {_JSON_TYPES.get(type(value), type(value).__name__)}",
        )
    seen: set[str] = set()
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise Invalid(
                "header names made of letters, digits and !#$%&'*+-.^_`|~", got=f"the name {name!r}"
            )
        if name.lower() in seen:
            raise Invalid("each header name once (names ignore case)", got=f"{name!r} twice")
        seen.add(name.lower())
        if not isinstance(text, str) or not is_header_value(text.strip(" \t")):
            raise Invalid(
                "header values of printable ASCII text without line breaks",
                got=f"a value for {name!r}",
            )
    # the spaces around a value are not part of it (RFC 9110 5.5)
    return tuple((name, text.strip(" \t")) for name, text in value.items())


def is_header_value(text: str) -> bool:
    """Whether ``text`` may be sent as a header value as it is (check it after expanding)."""
    return _FIELD_VALUE.fullmatch(text) is not None


def ca_file(value: Any) -> str | None:
    """Checked now, so a typo is named with its key instead of failing every TLS handshake."""
    wanted = "a readable PEM file, such as /etc/ssl/certs/team-ca.pem"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(wanted)
    path = os.path.abspath(os.path.expanduser(value.strip()))
    try:
        with open(path, "rb") as pem:
            text = pem.read(10_000_000)
    except OSError:
        raise ValueError(wanted) from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{wanted} (this one holds no -----BEGIN CERTIFICATE----- block)")
    return path


def keep_alive(value: Any) -> KeepAlive:
    if isinstance(value, bool):
        raise ValueError('a duration such as "30m" or a number of seconds (-1 = forever)')
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    if isinstance(value, str) and (_DURATION.fullmatch(value.strip()) or value.strip() == "0"):
        return value.strip()
    raise ValueError('a duration such as "30m" or a number of seconds (-1 = forever)')


def multiline(value: Any) -> Multiline:
    if value is True:
        return "always"
    if value is False:
        return "never"
    if value in ("auto", "always", "never"):
        return value
    raise ValueError('"auto", "always" or "never"')


#: ``completion.fim``'s values (``completion.templates.BY_NAME`` and ``"auto"``).
FIM_FORMATS = ("auto", "codellama", "starcoder2", "deepseek-coder", "qwen2.5-coder", "codegemma",
               "none")  # fmt: skip


def fim(value: Any) -> str:
    if value in FIM_FORMATS:
        return value
    raise ValueError(" or ".join(f'"{f}"' for f in FIM_FORMATS))


def show_hosts(hosts: tuple[str, ...]) -> str | list[str] | None:
    shown = [redact_userinfo(h) for h in hosts]
    return None if not shown else shown[0] if len(shown) == 1 else shown


def show_headers(headers: Headers) -> dict[str, str]:
    return {name: "***" for name, _ in headers}
