"""Build llama.cpp's own ``llama-server`` from the llama.cpp that llama-cpp-python vendors.

    python -m tests.real.build_llama_server

The same pinned sdist as the engine of the Ollama double (``pyproject.toml``), so both real
engines run the same llama.cpp. Idempotent: when ``llama_server.binary_path()`` exists it does
nothing. Otherwise it downloads the sdist with pip (sha256-checked), configures
``vendor/llama.cpp`` with CMake and Ninja (portable: ``GGML_NATIVE=OFF``, no UI, no curl, no
OpenSSL, static), builds only the ``llama-server`` target (3.5-5.5 min on 2 cores), checks that
the binary runs and moves it into place; the build tree is deleted afterwards.

Needs a C++ compiler, ``cmake`` and ``ninja``: ``apt-get install cmake ninja-build`` or
``pip install cmake ninja`` (found on PATH or next to this Python).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from .llama_server import SDIST_VERSION, binary_path

SDIST = f"llama_cpp_python-{SDIST_VERSION}.tar.gz"
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
VENDORED = f"llama_cpp_python-{SDIST_VERSION}/vendor/llama.cpp"
CMAKE_FLAGS = (
    "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF",
    "-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF", "-DLLAMA_CURL=OFF", "-DBUILD_SHARED_LIBS=OFF",
)  # fmt: skip
INSTALL_TOOLS = "apt-get install cmake ninja-build, or pip install cmake ninja"

log = logging.getLogger("build_llama_server")


def _tool(name: str) -> str:
    """``name`` on PATH or in this Python's scripts directory (``pip install cmake ninja``)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])
    found = shutil.which(name, path=path)
    if found is None:
        raise SystemExit(f"{name} is needed to build llama-server: {INSTALL_TOOLS}")
    return found


def _run(*command: str, cwd: Path | None = None) -> None:
    log.info("$ %s", " ".join(command))
    subprocess.run(command, cwd=cwd, check=True)


def _download(into: Path) -> Path:
    """The pinned sdist, fetched by pip (only llama-cpp-python from source: its build
    dependencies may be wheels, which keeps pip's metadata step at seconds)."""
    _run(
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
        "--dest", str(into), f"llama-cpp-python=={SDIST_VERSION}",
    )  # fmt: skip
    sdist = into / SDIST
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest}, expected {SDIST_SHA256}")
    return sdist


def _extract(sdist: Path, into: Path) -> Path:
    """Only ``vendor/llama.cpp`` of the sdist."""
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(VENDORED + "/")]
        archive.extractall(into, members=members, filter="data")
    return into / VENDORED


def build(jobs: int = 2) -> Path:
    """Build ``llama-server`` into ``binary_path()`` unless it is there; return the path."""
    target = binary_path()
    if target.is_file():
        log.info("%s is already built", target)
        return target
    cmake, ninja = _tool("cmake"), _tool("ninja")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="build-", dir=target.parent) as work:
        source = _extract(_download(Path(work)), Path(work))
        build_dir = source / "build"
        _run(cmake, "-S", str(source), "-B", str(build_dir), f"-DCMAKE_MAKE_PROGRAM={ninja}",
             *CMAKE_FLAGS)  # fmt: skip
        _run(cmake, "--build", str(build_dir), "--target", "llama-server", "-j", str(jobs))
        built = build_dir / "bin" / "llama-server"
        _run(str(built), "--version")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.copy2(built, partial)
        os.replace(partial, target)
    log.info("built %s in %.0f s", target, time.monotonic() - started)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(build(args.jobs))


if __name__ == "__main__":
    main()
