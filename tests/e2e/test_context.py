"""Workspace context end to end: the real server, two open files, the double's records."""

from __future__ import annotations

from pytest_lsp import LanguageClient

from tests.ollama_double import OllamaDouble

from .conftest import generate_calls, inline, inline_client_capabilities, insert_text, open_document

MODELS = "file:///work/shop/models.py"
SERVICE = "file:///work/shop/service.py"
MODELS_TEXT = (
    "from dataclasses import dataclass\n\n\n"
    "@dataclass\nclass Order:\n    id: int\n    total: float\n\n\n"
    "def apply_discount(order: Order, percent: float) -> Order:\n"
    '    """A copy of ``order`` with ``percent`` off its total."""\n'
    "    return Order(order.id, order.total * (1 - percent / 100))\n"
)
SERVICE_TEXT = (
    "from models import Order\n\n\ndef checkout(order: Order) -> Order:\n    return apply_"
)


def suggestion_calls(double) -> list:
    """Generations of suggestions (not one-token guided-healing steps or prefills)."""
    return [
        c for c in generate_calls(double) if (c.body.get("options") or {}).get("num_predict") != 1
    ]


def _prefix(call) -> str:
    return call.body["prompt"].split("<PRE> ", 1)[1].split(" <SUF>", 1)[0]


async def test_a_function_defined_in_another_open_file_reaches_the_prompt(
    client: LanguageClient, double: OllamaDouble
) -> None:
    open_document(client, MODELS, MODELS_TEXT)
    open_document(client, SERVICE, SERVICE_TEXT)
    # what a model writes after the prompt, which token healing ended before " apply_"
    double.script(" apply_discount(order, 10)")
    last = SERVICE_TEXT.split("\n")[-1]
    await inline(client, SERVICE, 4, len(last))
    (call,) = suggestion_calls(double)
    prompt = _prefix(call)
    assert "def apply_discount(order: Order, percent: float) -> Order:" in prompt
    assert prompt.index("apply_discount(order: Order") < prompt.index("def checkout")
    assert "models.py" in prompt  # the snippet is headed with its (relative) path

    # typing on at the same place: the context block stays byte-identical (typing through
    # the suggestion or mid-word is answered without the model, so type something else)
    insert_text(client, SERVICE, 2, 4, len(last), "total(")
    await inline(client, SERVICE, 4, len(last) + 6)
    insert_text(client, SERVICE, 3, 4, len(last) + 6, "1, ")
    await inline(client, SERVICE, 4, len(last) + 9)
    prompts = [_prefix(c) for c in suggestion_calls(double)]
    blocks = [p[: p.index("from models import Order")] for p in prompts]
    assert len(blocks) >= 2 and len(set(blocks)) == 1, blocks


async def test_context_can_be_turned_off(start_lsp, ollama_double) -> None:
    client = await start_lsp(
        inline_client_capabilities(),
        initialization_options={"ollama": {"context": {"enabled": False}}},
    )
    open_document(client, MODELS, MODELS_TEXT)
    open_document(client, SERVICE, SERVICE_TEXT)
    ollama_double.script(" apply_discount(order, 10)")
    last = SERVICE_TEXT.split("\n")[-1]
    await inline(client, SERVICE, 4, len(last))
    (call,) = suggestion_calls(ollama_double)
    assert "apply_discount(order: Order" not in call.body["prompt"]
