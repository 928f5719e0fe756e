"""Configuration: where each setting comes from, palette selections, and subscriptions."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ollama_lsp.configuration import Configuration
from ollama_lsp.settings import CompletionSettings, Settings


class Calls:
    """A subscriber that records what it heard, under a label, into a shared list."""

    def __init__(self, heard: list[tuple[str, Any, Any]], label: str) -> None:
        self.heard, self.label = heard, label

    def __call__(self, previous: Any, value: Any) -> None:
        self.heard.append((self.label, previous, value))


@pytest.fixture
def config() -> Configuration:
    c = Configuration()
    c.initialize({"ollama": {"model": "a:1", "completion": {"maxTokens": 64}}})
    return c


# -- sources ----------------------------------------------------------------------------------


def test_starts_with_the_defaults() -> None:
    assert Configuration().effective == Settings()
    assert Configuration().configured == Settings()


def test_initialize_takes_initialization_options_in_any_shape() -> None:
    for raw in ({"model": "a:1"}, {"ollama": {"model": "a:1"}}):
        c = Configuration()
        result = c.initialize(raw)
        assert result.errors == () and result.settings.model == "a:1"
        assert c.effective.model == "a:1"


def test_workspace_configuration_overlays_the_initialization_base(config) -> None:
    config.update({"completion": {"temperature": 0.5}}, from_base=False)
    result = config.update({"chatModel": "c:1"}, from_base=True)
    # the whole section came again: what it leaves out is the base's, not the last value
    assert result.settings.completion == CompletionSettings(max_tokens=64)
    assert config.effective.chat_model == "c:1" and config.effective.model == "a:1"


def test_did_change_configuration_overlays_the_last_configuration(config) -> None:
    config.update({"completion": {"temperature": 0.5}}, from_base=True)
    config.update({"completion": {"prefill": False}}, from_base=False)
    completion = config.effective.completion
    assert (completion.max_tokens, completion.temperature, completion.prefill) == (64, 0.5, False)


def test_a_bad_key_keeps_its_value_and_the_error_is_returned(config) -> None:
    result = config.update({"completion": {"maxTokens": "x", "suffixLines": 9}}, from_base=False)
    assert result.errors == (
        "ollama.completion.maxTokens: expected a whole number from 1 to 4096, got 'x'",
    )
    assert config.effective.completion.max_tokens == 64
    assert config.effective.completion.suffix_lines == 9
    assert result.settings == config.effective


# -- palette selections -------------------------------------------------------------------------


def test_a_selection_wins_over_the_configured_model(config) -> None:
    config.select("model", "picked:1")
    assert config.effective.model == "picked:1"
    assert config.configured.model == "a:1"
    assert config.selected == {"model": "picked:1"}


@pytest.mark.parametrize("from_base", [True, False])
def test_a_selection_survives_settings_that_do_not_name_another_model(config, from_base) -> None:
    config.select("model", "picked:1")
    config.update({"completion": {"temperature": 0.1}}, from_base=from_base)
    assert config.effective.model == "picked:1"
    result = config.update({"model": "a:1"}, from_base=from_base)  # the same, sent again
    assert result.settings.model == "picked:1" and config.effective.model == "picked:1"


@pytest.mark.parametrize("from_base", [True, False])
def test_settings_naming_another_model_end_the_selection(config, from_base) -> None:
    config.select("model", "picked:1")
    config.update({"model": "b:1"}, from_base=from_base)
    assert config.effective.model == "b:1" and config.selected == {}
    config.update({"model": "a:1"}, from_base=from_base)  # back to the old one: no selection
    assert config.effective.model == "a:1"


def test_completion_and_chat_selections_are_independent(config) -> None:
    config.select("model", "picked:1")
    config.select("chat_model", "chat:1")
    config.update({"chatModel": "other-chat:1"}, from_base=False)
    assert (config.effective.model, config.effective.chat_model) == ("picked:1", "other-chat:1")
    assert config.selected == {"model": "picked:1"}


def test_only_models_can_be_selected(config) -> None:
    with pytest.raises(ValueError, match="model or chat_model"):
        config.select("keep_alive", "1h")


# -- subscriptions ------------------------------------------------------------------------------


def test_a_subscriber_hears_previous_and_new_value_once_per_change(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    config.subscribe("completion.max_tokens", Calls(heard, "tokens"))
    config.update({"completion": {"maxTokens": 32}}, from_base=False)
    config.update({"completion": {"maxTokens": 32}}, from_base=False)  # no change
    config.update({"completion": {"temperature": 1.0}}, from_base=False)  # another value
    assert heard == [("tokens", 64, 32)]


def test_sections_and_the_whole_settings_can_be_subscribed(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    config.subscribe("completion", Calls(heard, "completion"))
    config.subscribe("", Calls(heard, "all"))
    config.subscribe("cache", Calls(heard, "cache"))
    before = config.effective
    config.update({"completion": {"temperature": 1.0}}, from_base=False)
    assert [label for label, *_ in heard] == ["completion", "all"]
    assert heard[0][1:] == (before.completion, config.effective.completion)
    assert heard[1][1:] == (before, config.effective)


def test_hosts_and_tls_are_subscribable(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    config.subscribe("hosts", Calls(heard, "hosts"))
    config.subscribe("tls", Calls(heard, "tls"))
    config.update({"host": ["a", "b"]}, from_base=False)
    assert heard == [("hosts", (), ("a", "b"))]


def test_subscribers_run_in_order_after_the_new_settings_are_in_place(config) -> None:
    seen: list[tuple[str, str]] = []
    config.subscribe("model", lambda old, new: seen.append(("first", config.effective.model)))
    config.subscribe("", lambda old, new: seen.append(("second", config.effective.model)))
    config.subscribe("model", lambda old, new: seen.append(("third", config.effective.model)))
    config.update({"model": "b:1"}, from_base=False)
    assert seen == [("first", "b:1"), ("second", "b:1"), ("third", "b:1")]


def test_a_selection_is_heard_by_model_subscribers(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    config.subscribe("model", Calls(heard, "model"))
    config.select("model", "picked:1")
    config.select("model", "picked:1")  # the same again: no change
    config.update({"model": "a:1"}, from_base=False)  # the configured one: the pick stays
    assert heard == [("model", "a:1", "picked:1")]


def test_a_failing_subscriber_is_logged_and_the_others_still_run(config, caplog) -> None:
    heard: list[tuple[str, Any, Any]] = []

    def broken(previous: Any, value: Any) -> None:
        raise RuntimeError("boom")

    config.subscribe("model", Calls(heard, "before"))
    config.subscribe("model", broken)
    config.subscribe("model", Calls(heard, "after"))
    with caplog.at_level(logging.ERROR, logger="ollama_lsp.configuration"):
        result = config.update({"model": "b:1"}, from_base=False)
    assert [label for label, *_ in heard] == ["before", "after"]
    assert result.settings.model == "b:1" and config.effective.model == "b:1"
    (record,) = caplog.records
    assert "'model'" in record.getMessage() and record.exc_info is not None


def test_a_change_made_by_a_subscriber_is_delivered_after_the_current_one(config) -> None:
    heard: list[tuple[str, Any, Any]] = []

    def follow(previous: Any, value: Any) -> None:
        heard.append(("follow", previous, value))
        if value == "b:1":
            config.select("chat_model", "chat-for-b:1")

    config.subscribe("model", follow)
    config.subscribe("", lambda old, new: heard.append(("all", old.chat_model, new.chat_model)))
    config.subscribe("chat_model", Calls(heard, "chat"))
    default_chat = config.effective.chat_model
    config.update({"model": "b:1"}, from_base=False)
    assert heard == [
        ("follow", "a:1", "b:1"),
        ("all", default_chat, default_chat),
        ("all", default_chat, "chat-for-b:1"),
        ("chat", default_chat, "chat-for-b:1"),
    ]


def test_unsubscribe_stops_the_calls_even_within_a_round(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    stop_second = None

    def first(previous: Any, value: Any) -> None:
        heard.append(("first", previous, value))
        assert stop_second is not None
        stop_second()

    config.subscribe("model", first)
    stop_second = config.subscribe("model", Calls(heard, "second"))
    config.update({"model": "b:1"}, from_base=False)
    assert [label for label, *_ in heard] == ["first"]
    stop_second()  # twice is harmless


def test_a_bad_update_changes_nothing_and_calls_nobody(config) -> None:
    heard: list[tuple[str, Any, Any]] = []
    config.subscribe("", Calls(heard, "all"))
    before = config.effective
    result = config.update({"model": "", "completion": {"maxTokens": 0}}, from_base=False)
    assert len(result.errors) == 2 and config.effective == before and heard == []


@pytest.mark.parametrize(
    "path", ["modle", "completion.maxTokens", "completion.", "_base", "host.x"]
)
def test_an_unknown_path_is_refused_when_subscribing(config, path) -> None:
    with pytest.raises(ValueError, match="no setting"):
        config.subscribe(path, lambda old, new: None)
