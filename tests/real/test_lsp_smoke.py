"""``start_real_lsp`` wires the real server to the real model: one suggestion, end to end, on
the tiny models (prefix continuation) and the code model (Qwen's FIM layout, sent raw)."""

from __future__ import annotations

from tests.e2e.conftest import inline, inline_client_capabilities, open_document

from . import models
from .conftest import model_fixture

real_model = model_fixture([*sorted(models.REAL_MODELS), *models.code_models()])


async def test_the_real_server_asks_the_real_model(real_model, real_double, start_real_lsp) -> None:
    client = await start_real_lsp(inline_client_capabilities())
    await real_double.wait_for_async(  # the server's warm-up: an empty prompt loads the model
        lambda r: r.path == "/api/generate" and r.done and not (r.body or {}).get("prompt"),
        timeout=60,
    )
    uri = "file:///real/smoke.py"
    open_document(client, uri, "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n")
    await inline(client, uri, 1, len("    return "))
    # the server may close the stream as soon as it has its suggestion: wait for the record
    asked = await real_double.wait_for_async(
        lambda r: r.path == "/api/generate" and r.done and bool((r.body or {}).get("prompt")),
        timeout=60,
    )
    assert asked.model == real_model and asked.status == 200
    assert asked.prompt_token_ids and asked.rendered_prompt == asked.body["prompt"]
    assert asked.body["raw"] is True and "suffix" not in asked.body
    fim = [asked.prompt_token_ids.count(token) for token in models.QWEN_FIM_IDS.values()]
    if real_model in models.code_models():  # the markers reached the model as its tokens
        # the cursor line after the middle token (its trailing space healed off)
        assert asked.body["prompt"].endswith("<|fim_middle|>    return")
        assert fim == [1, 1, 1], asked.prompt_token_ids
    else:  # prefix continuation: no markers in the prompt
        assert "<|fim_" not in asked.body["prompt"]
