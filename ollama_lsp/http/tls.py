"""What HTTPS trusts, and certificate failures in words a user can act on.

A team's GPU server behind a reverse proxy usually has a certificate from the team's own CA.
So the trust is the *system's* store (``ssl.create_default_context``: OpenSSL's default paths,
which honour ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` — the variables every TLS tool on the machine
already reads) plus, when ``ollama.tls.caFile`` names one, that PEM file. httpx's own default
would be ``certifi``'s bundle, which knows no company CA and ignores the system's.
"""

from __future__ import annotations

import ssl
from functools import lru_cache


class TlsSetupError(ValueError):
    """The CA file cannot be used; the text says which file and why."""


@lru_cache(maxsize=8)
def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A verifying client context: the system store, plus ``ca_file`` when given.

    Cached per file: building a context reads the whole system store (~10 ms), and every host
    of a pool shares it. A changed file is picked up by the next settings change, which asks
    again only when the path differs — restart the server after replacing a CA in place.
    """
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupError(
                f"ollama.tls.caFile {ca_file!r} is not a readable PEM certificate file "
                f"({exc.strerror or exc}) — point it at your team's CA certificate"
            ) from None
    return context


def certificate_problem(exc: BaseException) -> str | None:
    """Why a TLS handshake failed, if ``exc`` (or what caused it) is a certificate failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or str(current)
        if isinstance(current, ssl.SSLError):
            return current.reason or str(current)
        text = str(current)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return text.split("certificate verify failed:", 1)[-1].strip(" ()") or text
        current = current.__cause__ or current.__context__
    return None
