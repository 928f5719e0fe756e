"""Special-token strings in the user's text: harmless in the prompt, restored in suggestions."""

from __future__ import annotations

import itertools
import random

import pytest

from ollama_lsp.completion.special import SPECIAL_STRINGS, ZWSP, neutralise, restore
from ollama_lsp.completion.templates import CODEGEMMA, CODELLAMA, DEEPSEEK, QWEN, STARCODER2

REQUIRED = [
    "</s>",
    "<s>",
    "<unk>",
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<eos>",
    "<bos>",
    "<pad>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<|file_separator|>",
    "<file_sep>",
    "<filename>",
    "<repo_name>",
    "<|file_sep|>",
    "<|repo_name|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    "<PRE>",
    "<SUF>",
    "<MID>",
    "<EOT>",
    "<|EOT|>",
    "<|user|>",
    "<|assistant|>",
    "<|system|>",
    "<|eot_id|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    "<｜end▁of▁sentence｜>",
]


def test_every_family_we_know_is_covered() -> None:
    assert set(REQUIRED) <= set(SPECIAL_STRINGS)
    for template in (CODELLAMA, STARCODER2, DEEPSEEK, QWEN, CODEGEMMA):
        assert set(template.stop) <= set(SPECIAL_STRINGS), template.family
    assert len(SPECIAL_STRINGS) == len(set(SPECIAL_STRINGS))


def test_strings_are_bracketed_with_no_bracket_inside() -> None:
    """Why two occurrences never overlap, so neutralise and restore are exact inverses."""
    for s in SPECIAL_STRINGS:
        assert s[0] in "<[" and s[-1] in ">]", s
        assert not set(s[1:-1]) & set("<>[]"), s


@pytest.mark.parametrize("special", SPECIAL_STRINGS)
def test_no_special_string_survives_and_the_text_comes_back(special: str) -> None:
    text = f"a{special}b {special}{special}\n"
    harmless = neutralise(text)
    assert all(s not in harmless for s in SPECIAL_STRINGS)
    assert harmless.replace(ZWSP, "") == text
    assert restore(harmless) == text


def test_a_zero_width_space_the_user_already_wrote_comes_back_too() -> None:
    text = f"<{ZWSP}/s> <{ZWSP}{ZWSP}/s> </s> <{ZWSP}x> a{ZWSP}b </{ZWSP}s>"
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("special", ["<unused0>", "<unused6241>", "<|reserved_special_token_7|>"])
def test_numbered_families_are_neutralised_too(special: str) -> None:
    text = f"x = '{special}'"
    harmless = neutralise(text)
    assert special not in harmless and restore(harmless) == text


def test_text_without_special_strings_is_unchanged() -> None:
    text = "if a < b and c > d: x[0] = '<html>' # <- [note] <unused> <b>bold</b>"
    assert neutralise(text) == text == restore(text)


def test_round_trip_on_random_mixtures() -> None:
    pieces = [*SPECIAL_STRINGS, ZWSP, "<", ">", "[", "]", "/", "s", "|", " ", "x", "\n"]
    pieces += ["unused", "7", "<unused7>", "<|reserved_special_token_1|>"]
    rng = random.Random(9)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        harmless = neutralise(text)
        assert restore(harmless) == text, repr(text)
        assert all(s not in harmless for s in SPECIAL_STRINGS), repr(text)


def test_split_specials_in_pairs_round_trip() -> None:
    for a, b in itertools.product(["<", "</", "<|", "[", "s>", "|>", ZWSP], repeat=2):
        text = a + b + "</s>" + a + ZWSP + b
        assert restore(neutralise(text)) == text
