"""FIM prompt formats: exact bytes per family, stop tokens, and choosing one for a model."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.templates import (
    CODEGEMMA,
    CODELLAMA,
    DEEPSEEK,
    PREFIX_ONLY,
    QWEN,
    STARCODER2,
    SUFFIX,
    FimTemplate,
    Prompt,
    select_template,
)

PREFIX = "def add(a, b):\n    "
SUFFIX_TEXT = "\n\nprint(add(1, 2))\n"
FIM_FAMILIES = [CODELLAMA, STARCODER2, DEEPSEEK, QWEN, CODEGEMMA]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (CODELLAMA, f"<PRE> {PREFIX} <SUF>{SUFFIX_TEXT} <MID>"),
        (STARCODER2, f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX_TEXT}<fim_middle>"),
        (DEEPSEEK, f"<｜fim▁begin｜>{PREFIX}<｜fim▁hole｜>{SUFFIX_TEXT}<｜fim▁end｜>"),
        (QWEN, f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX_TEXT}<|fim_middle|>"),
        (CODEGEMMA, f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX_TEXT}<|fim_middle|>"),
    ],
    ids=lambda value: value.family if isinstance(value, FimTemplate) else "",
)
def test_raw_prompt_is_exactly_the_family_format(template: FimTemplate, expected: str) -> None:
    assert template.build(PREFIX, SUFFIX_TEXT) == Prompt(expected, None, True, template.stop)


@pytest.mark.parametrize(
    "template", [STARCODER2, DEEPSEEK, QWEN, CODEGEMMA], ids=lambda t: t.family
)
def test_the_cursor_line_goes_after_the_middle_token(template: FimTemplate) -> None:
    above, line = "def add(a, b):\n", "    return a"
    prompt = template.build(above, SUFFIX_TEXT, middle=line).prompt
    assert prompt == template.build(above, SUFFIX_TEXT).prompt + line
    # a key typed on the line only appends: everything before stays evaluated in the slot
    assert template.build(above, SUFFIX_TEXT, middle=line + " +").prompt == prompt + " +"


@pytest.mark.parametrize("template", [CODELLAMA, SUFFIX, PREFIX_ONLY], ids=lambda t: t.family)
def test_without_tail_the_cursor_line_ends_the_prefix(template: FimTemplate) -> None:
    above, line = "def add(a, b):\n", "    return a"
    built = template.build(above, SUFFIX_TEXT, middle=line)
    assert built == template.build(above + line, SUFFIX_TEXT)


def test_codellama_prompt_equals_what_ollamas_template_renders() -> None:
    """``<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>``, stopping at ``<EOT>``."""
    prompt = CODELLAMA.build("x = ", "\n")
    assert prompt.prompt == "<PRE> x =  <SUF>\n <MID>"
    assert "<EOT>" in prompt.stop


@pytest.mark.parametrize(
    ("template", "header"),
    [(STARCODER2, "<file_sep>src/app.py\n"), (QWEN, "<|file_sep|>src/app.py\n")],
    ids=["starcoder2", "qwen"],
)
def test_file_path_header_where_the_family_has_a_token(template: FimTemplate, header: str) -> None:
    prompt = template.build(PREFIX, SUFFIX_TEXT, path="src/app.py", language="python")
    assert prompt.prompt == header + template.build(PREFIX, SUFFIX_TEXT).prompt


@pytest.mark.parametrize("template", [CODELLAMA, DEEPSEEK, CODEGEMMA], ids=lambda t: t.family)
def test_no_header_for_families_without_a_file_token(template: FimTemplate) -> None:
    with_path = template.build(PREFIX, SUFFIX_TEXT, path="src/app.py", language="python")
    assert with_path == template.build(PREFIX, SUFFIX_TEXT)


def test_no_header_without_a_path() -> None:
    assert not STARCODER2.build(PREFIX, SUFFIX_TEXT).prompt.startswith("<file_sep>")


@pytest.mark.parametrize("template", FIM_FAMILIES, ids=lambda t: t.family)
def test_braces_in_code_and_path_are_sent_verbatim(template: FimTemplate) -> None:
    code, after, path = "f'{x}' + {0}", "{suffix}}", "a/{path}.py"
    prompt = template.build(code, after, path=path).prompt
    assert code in prompt and after in prompt
    assert template.header == "" or path in prompt


@pytest.mark.parametrize("template", FIM_FAMILIES, ids=lambda t: t.family)
def test_raw_prompt_is_never_empty_even_at_an_empty_file(template: FimTemplate) -> None:
    """Ollama treats an empty prompt as "just load the model"."""
    prompt = template.build("", "")
    assert prompt.prompt and prompt.raw and prompt.suffix is None


@pytest.mark.parametrize("template", FIM_FAMILIES, ids=lambda t: t.family)
def test_stop_tokens_include_every_fim_marker_of_the_family(template: FimTemplate) -> None:
    markers = template.build("\0", "\0").prompt.split("\0")
    assert {m.strip() for m in markers if m.strip()} <= set(template.stop)


@pytest.mark.parametrize(
    ("template", "stops"),
    [
        (CODELLAMA, {"<EOT>", "<PRE>", "<SUF>", "<MID>"}),
        (STARCODER2, {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>",
                      "<|endoftext|>"}),
        (DEEPSEEK, {"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>",
                    "<|EOT|>"}),
        (QWEN, {"<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_start|>", "<|im_end|>"}),
        (CODEGEMMA, {"<|file_separator|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                     "<end_of_turn>", "<eos>"}),
    ],
    ids=lambda value: value.family if isinstance(value, FimTemplate) else "",
)  # fmt: skip
def test_stop_strings_are_only_the_familys_own(template: FimTemplate, stops: set[str]) -> None:
    """Another family's string is text for this model (``</s>`` is HTML to CodeLlama)."""
    assert set(template.stop) == stops
    assert len(template.stop) == len(stops)


def test_no_stop_strings_where_ollama_knows_the_models_end_better() -> None:
    """Prefix-only models are unknown to us; Ollama stops at their end-of-generation tokens
    and Modelfile stops, which apply because an empty tuple sends no ``stop`` at all."""
    assert PREFIX_ONLY.stop == () == SUFFIX.stop


def test_suffix_mode_lets_ollama_place_the_tokens() -> None:
    assert SUFFIX.build(PREFIX, SUFFIX_TEXT, path="a.py") == Prompt(PREFIX, SUFFIX_TEXT, False, ())


@pytest.mark.parametrize(("prefix", "suffix"), [("", "x"), ("x", ""), ("", "")])
def test_suffix_mode_never_sends_an_empty_prompt_or_suffix(prefix: str, suffix: str) -> None:
    prompt = SUFFIX.build(prefix, suffix)
    assert prompt.prompt == (prefix or "\n")
    assert prompt.suffix == (suffix or "\n")


def test_prefix_mode_is_plain_continuation_of_the_text_before_the_cursor() -> None:
    prompt = PREFIX_ONLY.build(PREFIX, SUFFIX_TEXT, path="a.py", language="python")
    assert prompt == Prompt(PREFIX, None, True, PREFIX_ONLY.stop)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("codellama:7b-code", CODELLAMA),
        ("codellama:13b-code-q4_K_M", CODELLAMA),
        ("codellama:code", CODELLAMA),
        ("CodeLlama:7B-Code", CODELLAMA),
        ("library/codellama:7b-code", CODELLAMA),
        ("registry.ollama.ai/library/codellama:7b-code", CODELLAMA),
        ("codellama", PREFIX_ONLY),
        ("codellama:7b", PREFIX_ONLY),
        ("codellama:7b-instruct", PREFIX_ONLY),
        ("codellama:7b-python", PREFIX_ONLY),
        ("codellama:34b-code", PREFIX_ONLY),
        ("codellama:70b-code", PREFIX_ONLY),
        ("starcoder2", STARCODER2),
        ("starcoder2:3b", STARCODER2),
        ("starcoder2:15b-instruct", PREFIX_ONLY),
        ("deepseek-coder:1.3b-base", DEEPSEEK),
        ("deepseek-coder-v2:16b", DEEPSEEK),
        ("deepseek-coder:6.7b-instruct", PREFIX_ONLY),
        ("qwen2.5-coder:1.5b-base", QWEN),
        ("qwen2.5-coder", QWEN),
        ("Qwen2.5-Coder:7B", QWEN),
        ("hf.co/Qwen/Qwen2.5-Coder-1.5B-GGUF:Q4_K_M", QWEN),
        ("qwen3-coder:30b", QWEN),
        ("codegemma:2b", CODEGEMMA),
        ("codegemma:7b-code", CODEGEMMA),
        ("codegemma:7b-instruct", PREFIX_ONLY),
        ("hf.co/bartowski/codegemma-2b-GGUF:Q4_K_M", CODEGEMMA),
        ("tinyllama", PREFIX_ONLY),
        ("tinyllama:1.1b-chat", PREFIX_ONLY),
        ("llama3.2:1b", PREFIX_ONLY),
    ],
)
def test_family_from_the_model_name(model: str, expected: FimTemplate) -> None:
    assert select_template(model) is expected


@pytest.mark.parametrize(
    "model",
    [
        "hf.co/bartowski/starcoder2-15b-instruct-v0.1-GGUF:Q4_K_M",
        "hf.co/TheBloke/deepseek-coder-6.7B-instruct-GGUF:Q4_K_M",
        "hf.co/someone/codegemma-7b-instruct-GGUF:Q4_K_M",
    ],
)
def test_instruct_in_a_hugging_face_repository_name_means_no_fim(model: str) -> None:
    """hf.co names carry ``instruct`` in the repository, not in the tag."""
    assert select_template(model) is PREFIX_ONLY


def test_the_name_wins_over_the_template() -> None:
    chat = "<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n"
    assert select_template("codellama:7b-code", template_text=chat) is CODELLAMA
    assert select_template("codellama:7b-instruct", template_text="<PRE> <MID>") is PREFIX_ONLY


@pytest.mark.parametrize(
    ("template_text", "capabilities", "expected"),
    [
        ("{{ if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ end }}", (), CODELLAMA),
        ("<fim_prefix>{{ .Prompt }}<fim_suffix>{{ .Suffix }}<fim_middle>", (), STARCODER2),
        ("<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>", (), QWEN),
        ("[SUFFIX]{{ .Suffix }}[PREFIX] {{ .Prompt }}", (), SUFFIX),
        ("{{ .Prompt }}", ("completion", "insert"), SUFFIX),
        ("<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n", ("completion",), PREFIX_ONLY),
        (None, None, PREFIX_ONLY),
    ],
    ids=["codellama", "starcoder", "qwen", "suffix-var", "insert-cap", "chat", "nothing"],
)
def test_family_from_ollamas_template_when_the_name_does_not_tell(
    template_text: str | None, capabilities: tuple[str, ...] | None, expected: FimTemplate
) -> None:
    chosen = select_template(
        "hf.co/someone/my-finetune-GGUF:Q8_0",
        template_text=template_text,
        capabilities=capabilities,
    )
    assert chosen is expected


def test_tinyllama_chat_gets_a_prefix_only_raw_prompt() -> None:
    template = select_template(
        "tinyllama:latest",
        template_text="<|system|>\n{{ .System }}</s>\n<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n",
        capabilities=("completion",),
    )
    prompt = template.build("import os\n", "\nprint(1)\n")
    assert prompt == Prompt("import os\n", None, True, ())


def test_prefix_only_never_sends_an_empty_prompt() -> None:
    """Ollama treats an empty prompt as "load the model" and generates nothing."""
    assert PREFIX_ONLY.build("", "def f():\n").prompt == "\n"


def test_completion_fim_names_the_format_when_the_name_cannot() -> None:
    from ollama_lsp.checks import FIM_FORMATS
    from ollama_lsp.completion.templates import BY_NAME, CODELLAMA, PREFIX_ONLY, QWEN

    assert select_template("my-finetune:latest", fim="qwen2.5-coder") is QWEN
    assert select_template("codellama:7b-code", fim="none") is PREFIX_ONLY
    assert select_template("codellama:7b-code", fim="auto") is CODELLAMA
    assert set(FIM_FORMATS) == set(BY_NAME) | {"auto"}
