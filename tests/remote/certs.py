"""A throwaway certificate authority and a server certificate for ``localhost``/``127.0.0.1``.

Made with the ``openssl`` command line (present wherever nginx's TLS is), so that the tests
prove what a team does: trust a private CA with ``ollama.tls.caFile`` or ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_DAYS = "2"


@dataclass(frozen=True)
class Certs:
    ca: Path
    """The CA certificate (PEM): what a client trusts."""
    cert: Path
    """The server's certificate, signed by the CA, for localhost and 127.0.0.1."""
    key: Path
    """The server's private key."""


def make_certs(directory: Path) -> Certs:
    """Write a new CA and a server certificate signed by it into ``directory``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is missing: apt-get install -y openssl")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid:always\n"
    )

    def run(*args: str | Path) -> None:
        done = subprocess.run([openssl, *map(str, args)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")

    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run("req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", _DAYS,
        "-subj", "/CN=ollama-lsp test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", "-new", *curve, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", _DAYS, "-extfile", ext)  # fmt: skip
    return Certs(ca=ca, cert=cert, key=key)
