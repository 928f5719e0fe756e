"""Settings: every shape editors send, bad values reported by key with defaults kept."""

import json
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from ollama_lsp import checks
from ollama_lsp import settings as s

ROOT = Path(__file__).resolve().parent.parent
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_defaults() -> None:
    d = s.Settings()
    assert d.model == "codellama:7b-code"
    assert d.chat_model == "tinyllama:1.1b-chat-v1-q4_0"
    assert 100 <= d.completion.debounce_ms <= 200
    assert d.host is None


@pytest.mark.parametrize(
    "raw",
    [
        {"model": "qwen2.5-coder:1.5b-base", "completion": {"maxTokens": 64}},
        {"ollama": {"model": "qwen2.5-coder:1.5b-base", "completion": {"maxTokens": 64}}},
    ],
)
def test_flat_and_nested_shapes(raw) -> None:
    result = s.parse(raw)
    assert result.errors == ()
    assert result.settings.model == "qwen2.5-coder:1.5b-base"
    assert result.settings.completion.max_tokens == 64
    assert result.settings.completion.temperature == s.CompletionSettings().temperature


def test_every_key_maps() -> None:
    raw = {
        "host": "http://10.1.2.3:11434",
        "model": "a:1",
        "chatModel": "b:2",
        "keepAlive": "1h",
        "unloadPrevious": False,
        "api": "openai",
        "slot": 2,
        "spareSlot": 3,
        "headers": {"X-Team": "ml"},
        "completion": {
            "debounceMs": 0,
            "adaptiveDebounce": False,
            "maxDebounceMs": 300,
            "maxTokens": 10,
            "temperature": 0,
            "multiline": False,
            "fim": "qwen2.5-coder",
            "prefixLines": 5,
            "suffixLines": 6,
            "contextTokens": 2048,
            "timeoutMs": 500,
            "promptLatencyMs": 700,
            "prefill": False,
            "speculate": False,
            "candidates": 2,
        },
        "cache": {"maxEntries": 7, "ttlSeconds": 8},
        "context": {
            "enabled": False,
            "maxTokens": 100,
            "definitions": False,
            "similar": False,
            "recentEdits": False,
            "maxSnippets": 2,
            "similarWindowLines": 30,
            "maxEdits": 3,
        },
        "tls": {"caFile": None},
    }
    result = s.parse(raw)
    assert result.errors == ()
    assert s.to_wire(result.settings) == {
        **raw,
        "headers": {"X-Team": "***"},  # to_wire is for showing: header values are masked
        "completion": {**raw["completion"], "multiline": "never"},
    }


def _leaves(cls: type, prefix: str = "ollama") -> list[str]:
    out = []
    for f in fields(cls):
        if is_dataclass(f.default_factory):
            out += _leaves(f.default_factory, f"{prefix}.{f.name}")
        else:
            out.append(f"{prefix}.{f.name}")
    return out


def test_describe_covers_every_field_once_with_a_doc() -> None:
    docs = s.describe()
    assert len(docs) == len(_leaves(s.Settings)) == len({d.name for d in docs})
    for doc in docs:
        assert doc.doc.strip() and "\n" not in doc.doc, doc.name
    by_name = {d.name: d for d in docs}
    assert by_name["ollama.completion.maxTokens"].default == 128
    assert by_name["ollama.chatModel"].default == s.DEFAULT_CHAT_MODEL
    assert by_name["ollama.context.similarWindowLines"].default == 24
    assert by_name["ollama.host"].default is None
    assert by_name["ollama.headers"].default == {}
    assert by_name["ollama.tls.caFile"].default is None


def test_describe_names_are_the_wire_names_to_wire_uses() -> None:
    def flat(tree: dict, prefix: str = "ollama") -> dict:
        out = {}
        for k, v in tree.items():
            out.update(flat(v, f"{prefix}.{k}") if isinstance(v, dict) and k != "headers" else {})
            if not isinstance(v, dict) or k == "headers":
                out[f"{prefix}.{k}"] = v
        return out

    assert flat(s.to_wire(s.Settings())) == {d.name: d.default for d in s.describe()}


def test_wire_names_are_camel_case_of_the_attributes() -> None:
    names = {d.name for d in s.describe()}
    assert {"ollama.chatModel", "ollama.completion.promptLatencyMs", "ollama.tls.caFile"} <= names
    assert "ollama.hosts" not in names and "ollama.host" in names  # the one spelled differently


def test_vscode_manifest_declares_the_servers_defaults() -> None:
    """package.json's ollama.* keys exist here with the same default, and the new ones are there."""
    manifest = json.loads((ROOT / "editor-configs/vscode/package.json").read_text())
    props = {}
    for group in manifest["contributes"]["configuration"]:
        props.update(group["properties"])
    declared = {k: v["default"] for k, v in props.items() if k.startswith("ollama.")}
    defaults = {d.name: d.default for d in s.describe()}
    assert {k: defaults.get(k, "<not a server key>") for k in declared} == declared
    assert {"ollama.host", "ollama.api", "ollama.headers", "ollama.tls.caFile"} <= set(declared)


def test_bad_values_are_named_and_keep_previous() -> None:
    base = s.parse({"completion": {"maxTokens": 99}}).settings
    result = s.parse(
        {
            "model": "",
            "keepAlive": True,
            "completion": {"maxTokens": "lots", "temperature": 9, "debounceMs": 50},
            "cache": "big",
        },
        base,
    )
    assert result.settings.completion.max_tokens == 99
    assert result.settings.completion.debounce_ms == 50
    assert result.settings.model == base.model
    assert result.settings.keep_alive == base.keep_alive
    keys = [e.split(":")[0] for e in result.errors]
    assert keys == [
        "ollama.model",
        "ollama.keepAlive",
        "ollama.completion.maxTokens",
        "ollama.completion.temperature",
        "ollama.cache",
    ]
    assert "'lots'" in result.errors[2]


@pytest.mark.parametrize("value", ["5m", "1h30m", "300ms", "-1m", "0", 0, -1, 300, 0.5])
def test_keep_alive_accepts_ollama_forms(value) -> None:
    assert s.parse({"keepAlive": value}).settings.keep_alive == value


@pytest.mark.parametrize("value", ["5", "soon", None, [1], float("inf"), float("nan")])
def test_keep_alive_rejects_what_ollama_rejects(value) -> None:
    assert s.parse({"keepAlive": value}).errors


def test_non_mapping_is_ignored() -> None:
    assert s.parse(None).settings == s.Settings()
    assert s.parse([1, 2]).settings == s.Settings()
    assert s.parse({"unknown": 1, "serverPath": "/x"}).errors == ()


def test_numbers_refuse_infinity_and_nan() -> None:
    result = s.parse({"completion": {"maxTokens": float("inf"), "temperature": float("nan")}})
    assert [e.split(":")[0] for e in result.errors] == [
        "ollama.completion.maxTokens",
        "ollama.completion.temperature",
    ]
    assert result.settings.completion == s.CompletionSettings()


def test_the_documented_error_shape() -> None:
    (error,) = s.parse({"completion": {"maxTokens": "x"}}).errors
    assert error == "ollama.completion.maxTokens: expected a whole number from 1 to 4096, got 'x'"


# -- host: one or a pool ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "  ", None, []])
def test_no_host_means_the_environment_or_the_default(value) -> None:
    result = s.parse({"host": value}, s.parse({"host": "http://gpu:11434"}).settings)
    assert result.errors == () and result.settings.hosts == () and result.settings.host is None


def test_one_host_or_a_list_in_order_without_duplicates() -> None:
    assert s.parse({"host": " http://gpu:11434 "}).settings.hosts == ("http://gpu:11434",)
    hosts = ["https://b.example", "a:11434", "http://a:11434", "https://b.example/", "c"]
    result = s.parse({"host": hosts})
    assert result.errors == ()
    assert result.settings.hosts == ("https://b.example", "a:11434", "c")
    assert result.settings.host == "https://b.example"


def test_at_most_sixteen_hosts() -> None:
    assert s.parse({"host": [f"h{i}" for i in range(16)]}).errors == ()
    (error,) = s.parse({"host": [f"h{i}" for i in range(17)]}).errors
    assert error.startswith(
        "ollama.host: expected a host such as http://127.0.0.1:11434, or a list"
    )


@pytest.mark.parametrize("value", [5, {"url": "x"}, ["ok", 5], ["ok", ""], "ftp://x", ["a", "b:0"]])
def test_bad_hosts_keep_the_previous_ones(value) -> None:
    base = s.parse({"host": "http://kept:11434"}).settings
    result = s.parse({"host": value}, base)
    assert result.settings.hosts == ("http://kept:11434",)
    assert len(result.errors) == 1 and result.errors[0].startswith("ollama.host: expected ")


def test_a_bad_host_in_a_list_is_numbered() -> None:
    (error,) = s.parse({"host": ["a", "b:99999"]}).errors
    assert "a port from 1 to 65535" in error and "(host 2)" in error


def test_host_passwords_stay_out_of_repr_errors_and_wire() -> None:
    good = s.parse({"host": ["http://ann:hunter2@gpu:11434", "b"]}).settings
    assert good.hosts[0] == "http://ann:hunter2@gpu:11434"  # kept: the client sends Basic auth
    assert "hunter2" not in repr(good)
    assert "hunter2" not in json.dumps(s.to_wire(good))
    assert s.to_wire(good)["host"] == ["http://ann:***@gpu:11434", "b"]
    for bad in ["http://ann:hunter2@gpu:99999", ["ok", "http://ann:hunter2@gpu:0"]]:
        (error,) = s.parse({"host": bad}).errors
        assert "hunter2" not in error and "ann:***@" in error


# -- api --------------------------------------------------------------------------------------


def test_api_is_ollama_or_openai() -> None:
    assert s.Settings().api == "ollama"
    assert s.parse({"api": "openai"}).settings.api == "openai"
    result = s.parse({"api": "vllm"}, s.parse({"api": "openai"}).settings)
    assert result.settings.api == "openai"
    assert result.errors[0].startswith('ollama.api: expected "ollama", or "openai"')


# -- headers ----------------------------------------------------------------------------------


def test_headers_are_kept_unexpanded_frozen_and_out_of_repr() -> None:
    raw = {"Authorization": "Bearer ${env:OLLAMA_LSP_TOKEN}", "X-Team": "ml\tgpu"}
    settings = s.parse({"headers": raw}).settings
    assert settings.headers == tuple(raw.items())
    assert hash(settings) == hash(s.parse({"headers": dict(raw)}).settings)
    assert "OLLAMA_LSP_TOKEN" not in repr(settings) and "X-Team" not in repr(settings)
    assert s.to_wire(settings)["headers"] == {"Authorization": "***", "X-Team": "***"}


@pytest.mark.parametrize("empty", [None, {}])
def test_no_headers(empty) -> None:
    base = s.parse({"headers": {"A": "b"}}).settings
    assert s.parse({"headers": empty}, base).settings.headers == ()


@pytest.mark.parametrize(
    ("headers", "wanted"),
    [
        ({"Bad Name": "v"}, "header names made of letters"),
        ({"": "v"}, "header names made of letters"),
        ({"X-Ok": "v", "x-ok": "w"}, "each header name once"),
        ({"X-Token": 5}, "header values of printable ASCII"),
        ({"X-Token": "top-secret\r\nHost: evil"}, "header values of printable ASCII"),
        ({"X-Token": "top-secret\u00e9"}, "header values of printable ASCII"),
        ("Authorization: top-secret", "an object of header names to values"),
        (["top-secret"], "an object of header names to values"),
    ],
)
def test_bad_headers_keep_the_previous_ones_and_never_show_a_value(headers, wanted) -> None:
    base = s.parse({"headers": {"Kept": "yes"}}).settings
    result = s.parse({"headers": headers}, base)
    assert result.settings.headers == (("Kept", "yes"),)
    (error,) = result.errors
    assert error.startswith(f"ollama.headers: expected {wanted}")
    assert "top-secret" not in error


def test_spaces_around_a_header_value_are_not_part_of_it() -> None:
    settings = s.parse({"headers": {"X-Team": " \tml gpu\t "}}).settings
    assert settings.headers == (("X-Team", "ml gpu"),)


def test_is_header_value_accepts_what_can_be_sent_as_it_is() -> None:
    assert checks.is_header_value("Bearer abc.def-123") and checks.is_header_value("")
    for bad in [" lead", "trail ", "a\r\nb", "a\nb", "caf\u00e9", "nul\x00"]:
        assert not checks.is_header_value(bad), repr(bad)


def test_a_bad_header_value_is_named_by_its_header() -> None:
    (error,) = s.parse({"headers": {"Authorization": "Bearer x\n"}}).errors
    assert error.endswith("got a value for 'Authorization'")


# -- tls.caFile --------------------------------------------------------------------------------


def test_ca_file_must_be_a_readable_pem_file(tmp_path: Path) -> None:
    pem = tmp_path / "team-ca.pem"
    pem.write_text(PEM)
    assert s.parse({"tls": {"caFile": str(pem)}}).settings.tls.ca_file == str(pem)
    base = s.parse({"tls": {"caFile": str(pem)}}).settings
    der = tmp_path / "ca.der"
    der.write_bytes(b"0\x82\x01\n")
    for bad in [str(tmp_path / "missing.pem"), str(tmp_path), str(der), 5]:
        result = s.parse({"tls": {"caFile": bad}}, base)
        assert result.settings.tls.ca_file == str(pem)
        (error,) = result.errors
        assert error.startswith(
            "ollama.tls.caFile: expected a readable PEM file, such as /etc/ssl/certs/team-ca.pem"
        )


def test_ca_file_expands_the_home_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "ca.pem").write_text(PEM)
    assert s.parse({"tls": {"caFile": "~/ca.pem"}}).settings.tls.ca_file == str(tmp_path / "ca.pem")


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_no_ca_file_means_the_system_store(tmp_path: Path, empty) -> None:
    (tmp_path / "ca.pem").write_text(PEM)
    base = s.parse({"tls": {"caFile": str(tmp_path / "ca.pem")}}).settings
    assert s.parse({"tls": {"caFile": empty}}, base).settings.tls.ca_file is None


def test_tls_must_be_an_object() -> None:
    assert s.parse({"tls": "strict"}).errors == ("ollama.tls: expected an object",)
