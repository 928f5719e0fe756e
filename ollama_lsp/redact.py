"""Secrets out of log lines that other libraries write.

pygls logs the whole ``InitializeParams`` at INFO ("Language server initialized …", in
``pygls/protocol/language_server.py``) and, at DEBUG, every JSON-RPC message it reads or sends —
so a token written into ``ollama.headers`` or a password in ``ollama.host`` would land in
``--log-file`` or on stderr before our own code has even parsed the settings. This filter,
on every handler the server installs, rewrites such records: the values of any ``headers``
object, credential-looking keys, ``Bearer``/``Basic`` credentials and ``user:password@`` in
URLs are masked, and so is every secret the backend registers (expanded header values).
Our own code never logs a secret; this is for what we cannot change.
"""

from __future__ import annotations

import logging
import re

from .http.endpoint import redact_userinfo

MASK = "***"
#: ``"headers": {...}`` in JSON or a Python repr: every value inside is a possible secret.
_HEADERS = re.compile(r"""(['"]headers['"]\s*:\s*\{)[^{}]*(\})""")
#: ``"Authorization": "..."``, ``'x-api-key': '...'``, ``"token": "..."``.
_CREDENTIAL_KEY = re.compile(
    r"""(['"](?:[\w-]*authorization|[\w-]*token|[\w-]*api[-_]?key|[\w-]*secret|password)['"]"""
    r"""\s*:\s*['"])[^'"]*""",
    re.IGNORECASE,
)
_SCHEME_CREDENTIALS = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class SecretFilter(logging.Filter):
    """Masks secrets in a record's final text (``record.msg`` with its ``args`` applied)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


def mask(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """``text`` with credentials masked (see the module docstring)."""
    for secret in secrets:
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, MASK)
    if "eaders" in text:
        text = _HEADERS.sub(rf"\1{MASK}\2", text)
    text = _CREDENTIAL_KEY.sub(rf"\1{MASK}", text)
    text = _SCHEME_CREDENTIALS.sub(rf"\1 {MASK}", text)
    return redact_userinfo(text) if "@" in text else text


#: The process's one filter: ``logs.configure`` puts it on its handlers, ``Backend`` feeds it.
secret_filter = SecretFilter()
