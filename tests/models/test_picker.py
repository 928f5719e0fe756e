"""The picker's memory advice, on the model manager over the Ollama double's real models.

The double serves Qwen2.5-Coder 0.5B and 1.5B with their real facts (``/api/show``) and
reports what they were measured to take (``/api/ps``, ``tests/ollama_double/measured.py``);
the machine's free memory is the manager's ``memory`` callable, set between the two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ollama_lsp.models.manager import ModelManager, Selection
from ollama_lsp.models.memory import MemoryInfo
from ollama_lsp.ollama import OllamaClient
from ollama_lsp.ollama.provider import OllamaProvider
from tests.ollama_double import OllamaDouble
from tests.ollama_double.measured import MEASURED

SMALL, LARGE = "qwen2.5-coder:0.5b", "qwen2.5-coder:1.5b"
NUM_CTX = 4096
#: Between what the 0.5B and the 1.5B need at 4096 (0.64 and 1.37 GB).
FREE = 1_000_000_000


@pytest.fixture
async def manager(ollama_double: OllamaDouble) -> AsyncIterator[ModelManager]:
    for name in (SMALL, LARGE):
        ollama_double.install(name)
    client = OllamaClient(ollama_double.host)
    provider = OllamaProvider(client)
    free = MemoryInfo(total=8_000_000_000, available=FREE, rss=50_000_000)
    yield ModelManager(provider, provider, num_ctx=lambda: NUM_CTX, memory=lambda: free)
    await client.aclose()


def close(value: int, to: int) -> bool:
    return abs(value - to) / to < 0.05


async def test_the_list_marks_what_fits_with_what_it_takes(manager: ModelManager) -> None:
    rows = {r["name"]: r for r in await manager.list_models(active=SMALL, chat=SMALL)}
    assert rows[SMALL]["fitsInMemory"] is True
    assert close(rows[SMALL]["estimatedBytes"], MEASURED[SMALL][NUM_CTX].need)
    assert rows[LARGE]["fitsInMemory"] is False
    assert close(rows[LARGE]["estimatedBytes"], MEASURED[LARGE][NUM_CTX].need)
    assert rows["codellama:7b-code"]["fitsInMemory"] is False


async def test_the_large_model_warns_and_names_the_small_one(manager: ModelManager) -> None:
    plan = await manager.plan_selection(LARGE, "completion")
    assert plan.warning is not None
    assert plan.warning.startswith(f"{LARGE} needs about 1.4 GB; 1.0 GB is free, so it may swap.")
    assert plan.warning.split("swap. ")[1].startswith(f"{SMALL} (needs 0.6 GB, installed)")
    assert (await manager.plan_selection(SMALL, "completion")).warning is None


async def test_a_model_that_does_not_fit_is_still_loaded(
    manager: ModelManager, ollama_double: OllamaDouble
) -> None:
    """A warning, not a refusal: the user chose it."""
    shown: list[str | None] = []
    chosen: list[str] = []

    class Loading:
        def __init__(self, plan: Selection) -> None:
            shown.append(plan.warning)

        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc: object) -> None:
            return None

    plan, _ = await manager.select(
        LARGE, "completion", previous=SMALL, other=SMALL, unload_previous=False,
        apply=chosen.append, loading=Loading,
    )  # fmt: skip
    assert shown == [plan.warning] and plan.warning and chosen == [LARGE]
    assert [m.name for m in await manager.store.running()] == [LARGE]


async def test_a_loaded_model_takes_what_ollama_says(manager: ModelManager) -> None:
    await manager.store.load_model(SMALL, num_ctx=NUM_CTX)
    ps_size = MEASURED[SMALL][NUM_CTX].ps_size
    rows = {r["name"]: r for r in await manager.list_models(active=SMALL, chat=SMALL)}
    assert rows[SMALL]["loaded"] and rows[SMALL]["estimatedBytes"] == ps_size
    plan = await manager.plan_selection(SMALL, "completion")
    assert plan.needed == ps_size and plan.warning is None
    status = await manager.status()
    assert [(m["name"], m["size"]) for m in status["loaded"]] == [(SMALL, ps_size)]
