"""Settings: every shape editors send, bad values reported by key with defaults kept."""

from dataclasses import fields

import pytest

from ollama_lsp import settings as s


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
        "completion": {
            "debounceMs": 0,
            "adaptiveDebounce": False,
            "maxDebounceMs": 300,
            "maxTokens": 10,
            "temperature": 0,
            "multiline": False,
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
    }
    result = s.parse(raw)
    assert result.errors == ()
    assert s.to_wire(result.settings) == {
        **raw,
        "completion": {**raw["completion"], "multiline": "never"},
    }


def test_wire_table_covers_every_field() -> None:
    wire = s.to_wire(s.Settings())
    assert set(wire["completion"]) and len(wire["completion"]) == len(fields(s.CompletionSettings))
    assert len(wire["cache"]) == len(fields(s.CacheSettings))
    assert len(wire) - 2 == len(fields(s.Settings)) - 2


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


@pytest.mark.parametrize("value", ["5", "soon", None, [1]])
def test_keep_alive_rejects_what_ollama_rejects(value) -> None:
    assert s.parse({"keepAlive": value}).errors


def test_non_mapping_is_ignored() -> None:
    assert s.parse(None).settings == s.Settings()
    assert s.parse([1, 2]).settings == s.Settings()
    assert s.parse({"unknown": 1, "serverPath": "/x"}).errors == ()
