"""${env:NAME} references: filled from the environment, and a missing one named, never a value."""

import pytest

from ollama_lsp.envrefs import MissingVariable, expand, names


def test_references_are_filled_from_the_given_environment() -> None:
    env = {"OLLAMA_LSP_TOKEN": "s3cret", "TEAM": "ml"}
    assert expand("Bearer ${env:OLLAMA_LSP_TOKEN}", env) == "Bearer s3cret"
    assert expand("${env:TEAM}-${env:TEAM}/${env:OLLAMA_LSP_TOKEN}", env) == "ml-ml/s3cret"


def test_text_without_references_is_unchanged() -> None:
    for text in ["", "plain", "$HOME", "${HOME}", "${env:}", "{env:X}", "$env:X"]:
        assert expand(text, {}) == text


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_LSP_TEST_VALUE", "from-env")
    assert expand("x=${env:OLLAMA_LSP_TEST_VALUE}") == "x=from-env"


def test_an_empty_variable_is_set() -> None:
    assert expand("[${env:EMPTY}]", {"EMPTY": ""}) == "[]"


def test_a_missing_variable_is_named_and_no_value_is_shown() -> None:
    env = {"SET": "visible-secret"}
    with pytest.raises(MissingVariable) as caught:
        expand("${env:SET} ${env:OLLAMA_LSP_TOKEN}", env)
    assert caught.value.name == "OLLAMA_LSP_TOKEN"
    message = str(caught.value)
    assert "OLLAMA_LSP_TOKEN is not set" in message
    assert "visible-secret" not in message
    assert isinstance(caught.value, LookupError)


def test_expansion_is_one_pass() -> None:
    """A value holding a reference is not expanded again: one variable cannot pull another."""
    env = {"A": "${env:B}", "B": "secret"}
    assert expand("${env:A}", env) == "${env:B}"


def test_names_lists_each_reference_once_in_order() -> None:
    assert names("${env:B} ${env:A} ${env:B} $HOME") == ("B", "A")
    assert names("nothing") == ()
