"""OLLAMA_HOST forms, as Ollama's own envconfig.Host reads them."""

import pytest

from ollama_lsp.ollama.host import DEFAULT_HOST, host_from_env, parse_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("   ", "http://127.0.0.1:11434"),
        ("example.com", "http://example.com:11434"),
        ("example.com:56789", "http://example.com:56789"),
        (":56789", "http://127.0.0.1:56789"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("1.2.3.4:8080", "http://1.2.3.4:8080"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:56789", "https://example.com:56789"),
        ("http://example.com:56789/path/", "http://example.com:56789/path"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:56789", "http://[::1]:56789"),
        ("::1", "http://[::1]:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11435", "http://127.0.0.1:11435"),
        ("example.com:notaport", "http://example.com:11434"),
        ("example.com:99999", "http://example.com:11434"),
    ],
)
def test_parse_host_accepts_ollamas_forms(value: str | None, expected: str) -> None:
    assert parse_host(value) == expected


def test_host_from_env_reads_ollama_host() -> None:
    assert host_from_env({"OLLAMA_HOST": "10.0.0.5:1234"}) == "http://10.0.0.5:1234"
    assert host_from_env({}) == DEFAULT_HOST
