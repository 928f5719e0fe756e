"""Read a GGUF file's scalar metadata and parameter count, fast, for ``/api/show``.

``gguf.GGUFReader`` parses every array element (Gemma 3's 262,144-token vocabulary takes
tens of seconds on a busy 2-core machine); Ollama's ``model_info`` shows the scalars and
leaves the big arrays empty, so this walks the header, skipping arrays by their lengths.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (version 2 and 3).
"""

from __future__ import annotations

import functools
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class GgufMeta:
    scalars: dict[str, Any]
    """Every non-array key, in file order."""
    arrays: dict[str, int]
    """Array keys and their lengths (``tokenizer.ggml.tokens`` ...)."""
    parameter_count: int


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    return struct.unpack(fmt, f.read(size))[0]


def _string(f: BinaryIO) -> str:
    return f.read(_read(f, "<Q")).decode("utf-8", "replace")


def _skip_array(f: BinaryIO, kind: int, count: int) -> None:
    if kind in _SCALARS:
        f.seek(struct.calcsize(_SCALARS[kind]) * count, 1)
    elif kind == _STRING:
        for _ in range(count):
            f.seek(_read(f, "<Q"), 1)
    else:  # nested arrays: walk each
        for _ in range(count):
            inner, n = _read(f, "<I"), _read(f, "<Q")
            _skip_array(f, inner, n)


@functools.cache
def read_meta(path: Path) -> GgufMeta:
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        _version = _read(f, "<I")
        n_tensors, n_kv = _read(f, "<Q"), _read(f, "<Q")
        scalars: dict[str, Any] = {}
        arrays: dict[str, int] = {}
        for _ in range(n_kv):
            key = _string(f)
            kind = _read(f, "<I")
            if kind == _STRING:
                scalars[key] = _string(f)
            elif kind == _ARRAY:
                inner, count = _read(f, "<I"), _read(f, "<Q")
                arrays[key] = count
                _skip_array(f, inner, count)
            else:
                scalars[key] = _read(f, _SCALARS[kind])
        parameters = 0
        for _ in range(n_tensors):
            _string(f)
            dims = [_read(f, "<Q") for _ in range(_read(f, "<I"))]
            f.seek(4 + 8, 1)  # type, offset
            parameters += math.prod(dims)
    return GgufMeta(scalars, arrays, parameters)
