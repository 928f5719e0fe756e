from ollama_lsp.models import memory
from ollama_lsp.models.presets import LLAMA_7B, PRESETS, TINYLLAMA, preset
from ollama_lsp.settings import DEFAULT_CHAT_MODEL as DEFAULT_CHAT
from ollama_lsp.settings import DEFAULT_MODEL
from ollama_lsp.settings import DEFAULT_MODEL as DEFAULT_COMPLETION


def test_kv_cache_matches_ollamas_formula() -> None:
    assert LLAMA_7B.kv_bytes(4096) == 2 * 1024**3
    assert TINYLLAMA.kv_bytes(2048) == 2 * 22 * 4 * 64 * 2048 * 2
    assert TINYLLAMA.kv_bytes(8192) == TINYLLAMA.kv_bytes(2048)  # capped at training context


def test_estimates() -> None:
    code = preset(DEFAULT_COMPLETION)
    assert code is not None
    needed = memory.estimate(code.size, code.architecture, 4096)
    assert 5.5e9 < needed < 6.5e9


def test_advice_names_a_smaller_preset_that_fits() -> None:
    q8 = preset("codellama:7b-code-q8_0")
    assert q8 is not None
    needed = memory.estimate(q8.size, q8.architecture, 4096)
    text = memory.advice(q8.name, needed, 6_500_000_000, 4096, "completion")
    assert text is not None
    assert text.startswith("codellama:7b-code-q8_0 needs about 9.")
    assert "6.5 GB is free" in text
    assert "codellama:7b-code (Q4_0, 3.8 GB)" in text


def test_advice_when_only_tinyllama_fits() -> None:
    text = memory.advice(DEFAULT_MODEL, 6e9, 1_500_000_000, 2048, "completion")
    assert text is not None and DEFAULT_CHAT in text


def test_no_advice_when_it_fits() -> None:
    assert memory.advice("x", 1, 2, 4096, "completion") is None


def test_memory_info_is_real() -> None:
    info = memory.memory_info()
    assert info.total > info.available > 0
    assert 0 < info.rss < info.total


def test_the_default_models_are_presets_listed_first_and_last() -> None:
    """The picker's first preset is the default completion model, its last the chat model."""
    assert PRESETS[0].name == DEFAULT_COMPLETION and PRESETS[-1].name == DEFAULT_CHAT
