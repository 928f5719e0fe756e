"""Prompt rendering per template family: what Ollama's Go templates produce, without Go templates.

Each family pairs the template text ``/api/show`` reports (which decides the ``insert``
capability: the text mentions ``.Suffix``) with a small function giving the same output.
Ollama's ``template.Execute`` has three paths, mirrored here:

* FIM: prompt and suffix both non-empty -> the template runs once with ``Prompt``/``Suffix``;
* legacy: templates that do not range over ``.Messages`` (all of these) run once per
  (system, user, assistant) turn, with ``{{ .Response }}`` appended by ``template.Parse``;
* raw: no template at all (handled by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateFamily:
    name: str
    text: str
    render: Callable[[str, str, str], str]
    """render(system, prompt, suffix) -> text, before the appended ``.Response``."""

    @property
    def supports_insert(self) -> bool:
        return ".Suffix" in self.text

    @property
    def supports_tools(self) -> bool:
        """Ollama's ``tools`` capability: the template uses ``.Tools``."""
        return ".Tools" in self.text


def _codellama_fim(system: str, prompt: str, suffix: str) -> str:
    return f"<PRE> {prompt} <SUF>{suffix} <MID>" if suffix else prompt


def _qwen_fim(system: str, prompt: str, suffix: str) -> str:
    return f"<|fim_prefix|>{prompt}<|fim_suffix|>{suffix}<|fim_middle|>" if suffix else prompt


def _prompt_only(system: str, prompt: str, suffix: str) -> str:
    return prompt


def _zephyr(system: str, prompt: str, suffix: str) -> str:
    return f"<|system|>\n{system}</s>\n<|user|>\n{prompt}</s>\n<|assistant|>\n"


def _llama2_inst(system: str, prompt: str, suffix: str) -> str:
    return f"[INST] <<SYS>>{system}<</SYS>>\n\n{prompt} [/INST]\n"


CODELLAMA_FIM = TemplateFamily(
    "codellama-fim",
    "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>\n"
    "{{- else }}{{ .Prompt }}\n{{- end }}",
    _codellama_fim,
)
QWEN_FIM = TemplateFamily(
    "qwen-fim",
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
    "{{- else }}{{ .Prompt }}\n{{- end }}",
    _qwen_fim,
)
PROMPT_ONLY = TemplateFamily("prompt", "{{ .Prompt }}", _prompt_only)
ZEPHYR = TemplateFamily(
    "zephyr",
    "<|system|>\n{{ .System }}</s>\n<|user|>\n{{ .Prompt }}</s>\n<|assistant|>\n",
    _zephyr,
)
LLAMA2_INST = TemplateFamily(
    "llama2-inst",
    "[INST] <<SYS>>{{ .System }}<</SYS>>\n\n{{ .Prompt }} [/INST]\n",
    _llama2_inst,
)


def _smollm2_chatml(system: str, prompt: str, suffix: str) -> str:
    head = f"<|im_start|>system\n{system}\n" if system else ""  # no <|im_end|>: as Ollama's
    return f"{head}<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


def _gemma3(system: str, prompt: str, suffix: str) -> str:
    content = f"{system}\n\n{prompt}" if system else prompt
    return f"<start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n"


# ollama.com/library/smollm2 (template dfebd0343bdd), the messages path without tools; the
# double renders one user turn (and a system) exactly as this text does.
SMOLLM2_CHATML = TemplateFamily(
    "smollm2-chatml",
    "{{- if .Messages }}\n{{- if .System }}<|im_start|>system\n{{ .System }}\n{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n{{- $last := eq (len (slice $.Messages $i)) 1 -}}\n"
    '{{- if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n'
    '{{ else if eq .Role "assistant" }}<|im_start|>assistant\n{{ .Content }}'
    "{{ if not $last }}<|im_end|>\n{{ end }}\n{{- end }}\n"
    '{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant\n{{ end }}\n{{- end }}\n'
    "{{- else }}\n{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}",
    _smollm2_chatml,
)
# ollama.com/library/gemma3:270m (template 4b19ac7dd2fb)
GEMMA3 = TemplateFamily(
    "gemma3",
    "{{- $systemPromptAdded := false }}\n{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 }}\n"
    '{{- if eq .Role "user" }}<start_of_turn>user\n'
    "{{- if (and (not $systemPromptAdded) $.System) }}\n{{- $systemPromptAdded = true }}\n"
    "{{ $.System }}\n{{ end }}\n{{ .Content }}<end_of_turn>\n"
    "{{ if $last }}<start_of_turn>model\n{{ end }}\n"
    '{{- else if eq .Role "assistant" }}<start_of_turn>model\n'
    "{{ .Content }}{{ if not $last }}<end_of_turn>\n{{ end }}\n{{- end }}\n{{- end }}",
    _gemma3,
)


def _qwen25_coder(system: str, prompt: str, suffix: str) -> str:
    if suffix:
        return _qwen_fim(system, prompt, suffix)
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{head}<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


# ollama.com/library/qwen2.5-coder (template 1e65450c3067, shared by the instruct tags
# 0.5b ... 32b): the FIM branch, then ChatML with tools. ``{{- else if`` trims the newline
# after <|fim_middle|>, so a suffix renders exactly the three FIM tokens around the code; one
# user turn (and a system) renders as the double's function does.
QWEN25_CODER = TemplateFamily(
    "qwen2.5-coder",
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
    "{{- else if .Messages }}\n{{- if or .System .Tools }}<|im_start|>system\n"
    "{{- if .System }}\n{{ .System }}\n{{- end }}\n{{- if .Tools }}\n\n# Tools\n\n"
    "You may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools>:\n<tools>\n"
    '{{- range .Tools }}\n{"type": "function", "function": {{ .Function }}}\n{{- end }}\n'
    "</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> with NO other text. Do not include any "
    "backticks or ```json.\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n'
    "{{- end }}<|im_end|>\n{{ end }}\n{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 -}}\n"
    '{{- if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n'
    '{{ else if eq .Role "assistant" }}<|im_start|>assistant\n'
    "{{ if .Content }}{{ .Content }}\n{{- else if .ToolCalls }}<tool_call>\n"
    '{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": '
    "{{ .Function.Arguments }}}\n{{ end }}</tool_call>\n"
    "{{- end }}{{ if not $last }}<|im_end|>\n{{ end }}\n"
    '{{- else if eq .Role "tool" }}<|im_start|>user\n<tool_response>\n{{ .Content }}\n'
    "</tool_response><|im_end|>\n{{ end }}\n"
    '{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant\n{{ end }}\n'
    "{{- end }}\n{{- else }}\n{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n"
    "{{ end }}{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n{{ end }}{{ .Response }}"
    "{{ if .Response }}<|im_end|>{{ end }}",
    _qwen25_coder,
)
FAMILIES = (
    CODELLAMA_FIM,
    QWEN_FIM,
    PROMPT_ONLY,
    ZEPHYR,
    LLAMA2_INST,
    SMOLLM2_CHATML,
    GEMMA3,
    QWEN25_CODER,
)

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


def family_for_text(text: str) -> TemplateFamily:
    """A request's ``template`` override: a known text renders exactly; anything else gets a
    best-effort substitution of ``.System``/``.Prompt``/``.Suffix`` (control actions dropped)."""
    for family in FAMILIES:
        if family.text == text:
            return family

    def render(system: str, prompt: str, suffix: str) -> str:
        values = {".System": system, ".Prompt": prompt, ".Suffix": suffix}
        return _ACTION.sub(lambda m: values.get(m.group(1), ""), text)

    return TemplateFamily("custom", text, render)


def render_fim(family: TemplateFamily, prompt: str, suffix: str) -> str:
    """The suffix path: no system prompt, no messages (``routes.go`` builds only these values)."""
    return family.render("", prompt, suffix)


def render_messages(family: TemplateFamily, messages: Iterable[tuple[str, str]]) -> str:
    """The legacy path of ``template.Execute`` for (role, content) messages."""
    out: list[str] = []
    system = prompt = response = ""

    def execute() -> None:
        nonlocal system, prompt, response
        out.append(family.render(system, prompt, "") + response)
        system = prompt = response = ""

    for role, content in messages:
        if role == "system":
            if prompt or response:
                execute()
            system = content
        elif role == "user":
            if response:
                execute()
            prompt = content
        elif role == "assistant":
            response = content
    execute()
    return "".join(out)
