"""Secrets are masked in other libraries' log lines (pygls logs InitializeParams whole)."""

from __future__ import annotations

import io
import logging

from ollama_lsp.redact import SecretFilter, mask

TOKEN = "olt-5f3a9c"


def test_header_values_credentials_and_passwords_are_masked() -> None:
    repr_line = (
        "Language server initialized InitializeParams(initialization_options={'host': "
        f"'https://me:hunter2@gpu:443', 'headers': {{'Authorization': 'Bearer {TOKEN}', "
        "'X-Team': 'blue'}, 'model': 'codellama:7b-code'})"
    )
    masked = mask(repr_line)
    assert TOKEN not in masked and "hunter2" not in masked and "blue" not in masked
    assert "'model': 'codellama:7b-code'" in masked and "me:***@gpu" in masked
    json_line = f'{{"headers":{{"Authorization":"Bearer {TOKEN}"}}}}'
    assert TOKEN not in mask(json_line)
    assert TOKEN not in mask(f'"x-api-key": "{TOKEN}"')
    assert TOKEN not in mask(f"Authorization: Bearer {TOKEN}")


def test_registered_secrets_are_masked_anywhere() -> None:
    assert mask(f"sent {TOKEN} somewhere", {TOKEN}) == "sent *** somewhere"


def test_the_filter_rewrites_the_record_before_any_handler_formats_it() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter())
    logger = logging.getLogger("test_redact")
    logger.addHandler(handler)
    try:
        logger.warning("initialized %s", {"headers": {"Authorization": f"Bearer {TOKEN}"}})
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue() and "***" in stream.getvalue()
