"""OLLAMA_HOST forms, as Ollama's own envconfig.Host reads them, plus credentials and refusals."""

import pytest

from ollama_lsp.http.endpoint import (
    DEFAULT_HOST,
    Endpoint,
    HostError,
    endpoint_or_default,
    host_from_env,
    parse_endpoint,
    parse_host,
    redact_userinfo,
)


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
        ("HTTPS://example.com", "https://example.com:443"),
        ("https://example.com:56789", "https://example.com:56789"),
        ("http://example.com:56789/path/", "http://example.com:56789/path"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:56789", "http://[::1]:56789"),
        ("::1", "http://[::1]:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11435", "http://127.0.0.1:11435"),
        ("example.com:", "http://example.com:11434"),
    ],
)
def test_parse_host_accepts_ollamas_forms(value: str | None, expected: str) -> None:
    assert parse_host(value) == expected
    assert parse_endpoint(value) == Endpoint(expected)


@pytest.mark.parametrize(
    ("value", "url", "user", "password", "shown"),
    [
        (
            "http://user:pass@proxy.example:8080",
            "http://proxy.example:8080",
            "user",
            "pass",
            "http://user:***@proxy.example:8080",
        ),
        (
            "https://me:p%40ss:w0rd@example.com/ollama",
            "https://example.com:443/ollama",
            "me",
            "p@ss:w0rd",
            "https://me:***@example.com:443/ollama",
        ),
        ("u:secret@10.0.0.5:1234", "http://10.0.0.5:1234", "u", "secret", "http://u:***@10.0.0.5:1234"),
        ("http://token@example.com", "http://example.com:80", "token", "", "http://token@example.com:80"),
    ],
)  # fmt: skip
def test_credentials_become_basic_auth_and_are_never_shown(
    value: str, url: str, user: str, password: str, shown: str
) -> None:
    endpoint = parse_endpoint(value)
    assert (endpoint.url, endpoint.username, endpoint.password) == (url, user, password)
    assert endpoint.credentials == (user, password)
    assert endpoint.display == shown == str(endpoint)
    assert parse_host(value) == shown
    if password:
        assert password not in repr(endpoint) and password not in endpoint.display


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("example.com:notaport", "a port from 1 to 65535"),
        ("example.com:99999", "a port from 1 to 65535"),
        ("http://example.com:0", "a port from 1 to 65535"),
        ("http://example.com:-5", "a port from 1 to 65535"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://example.com:70", "http:// or https://"),
        ("ftp://example.com", "http:// or https://"),
        ("http://exa mple.com", "without spaces"),
        ("http://example.com/?q=1", "without a query"),
        ("http://[::1", "IPv6 host in brackets"),
        ("http://ex$ample.com", "a host name or IP address"),
        ("fe80::1::2", "IPv6 host in brackets"),
    ],
)
def test_unusable_hosts_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(HostError, match=reason.replace("?", r"\?")):
        parse_endpoint(value)


def test_a_bad_start_host_falls_back_to_the_default_and_says_so_without_the_password() -> None:
    endpoint, message = endpoint_or_default("http://me:hunter2@example.com:99999", "OLLAMA_HOST")
    assert endpoint == Endpoint(DEFAULT_HOST)
    assert message is not None
    assert message.startswith("OLLAMA_HOST: expected a port from 1 to 65535")
    assert "hunter2" not in message and "me:***@example.com:99999" in message
    assert DEFAULT_HOST in message
    assert endpoint_or_default("example.com:1", "OLLAMA_HOST") == (
        Endpoint("http://example.com:1"),
        None,
    )


def test_redact_userinfo_masks_passwords_in_any_host_text() -> None:
    assert redact_userinfo("http://a:b@h:1/x") == "http://a:***@h:1/x"
    assert redact_userinfo("a:b@c@h:1") == "a:***@h:1"
    assert redact_userinfo("http://h:1") == "http://h:1"
    assert redact_userinfo("h:1") == "h:1"


def test_host_from_env_reads_ollama_host() -> None:
    assert host_from_env({"OLLAMA_HOST": "10.0.0.5:1234"}) == "10.0.0.5:1234"
    assert host_from_env({}) is None
