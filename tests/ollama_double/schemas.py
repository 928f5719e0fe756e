"""Ollama's request structs (``api/types.go``) and its option checking (``Options.FromMap``).

Field names and Go types matter because they appear in decode errors; option types matter
because a wrong one fails the request with a 500 *after* the model lookup, as in Ollama.
"""

from __future__ import annotations

from typing import Any

from .gojson import ANY, BOOL, INT, OPT_BOOL, STRING, CustomKind, MapKind, SliceKind, Struct
from .gotime import parse_keep_alive

KEEP_ALIVE = CustomKind(parse_keep_alive)
OPTIONS = MapKind()

MESSAGE = Struct(
    "Message",
    {
        "role": STRING,
        "content": STRING,
        "thinking": STRING,
        "images": ANY,
        "tool_calls": ANY,
        "tool_name": STRING,
        "tool_call_id": STRING,
    },
)

GENERATE = Struct(
    "GenerateRequest",
    {
        "model": STRING,
        "prompt": STRING,
        "suffix": STRING,
        "system": STRING,
        "template": STRING,
        "context": SliceKind(INT, "[]int"),
        "stream": OPT_BOOL,
        "raw": BOOL,
        "format": ANY,
        "keep_alive": KEEP_ALIVE,
        "images": ANY,
        "options": OPTIONS,
        "think": ANY,
        "truncate": OPT_BOOL,
        "shift": OPT_BOOL,
        "logprobs": BOOL,
        "top_logprobs": INT,
        "_debug_render_only": BOOL,
    },
)

CHAT = Struct(
    "ChatRequest",
    {
        "model": STRING,
        "messages": SliceKind(MESSAGE, "[]api.Message"),
        "stream": OPT_BOOL,
        "format": ANY,
        "keep_alive": KEEP_ALIVE,
        "tools": ANY,
        "options": OPTIONS,
        "think": ANY,
        "truncate": OPT_BOOL,
        "shift": OPT_BOOL,
        "logprobs": BOOL,
        "top_logprobs": INT,
        "_debug_render_only": BOOL,
    },
)

PULL = Struct(
    "PullRequest",
    {
        "model": STRING,
        "insecure": BOOL,
        "username": STRING,
        "password": STRING,
        "stream": OPT_BOOL,
        "name": STRING,
    },
)

SHOW = Struct(
    "ShowRequest",
    {
        "model": STRING,
        "system": STRING,
        "template": STRING,
        "verbose": BOOL,
        "options": OPTIONS,
        "name": STRING,
    },
)

DELETE = Struct("DeleteRequest", {"model": STRING, "name": STRING})
COPY = Struct("CopyRequest", {"source": STRING, "destination": STRING})

# Options.FromMap (HEAD): key -> the Go kind it must decode to. Unknown keys are ignored.
_INT_OPTIONS = frozenset(
    {"num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread", "num_keep", "seed"}
    | {"num_predict", "top_k", "repeat_last_n"}
)
_FLOAT_OPTIONS = frozenset(
    {"top_p", "min_p", "typical_p", "temperature", "repeat_penalty"}
    | {"presence_penalty", "frequency_penalty"}
)

RUNNER_OPTIONS = ("num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread", "use_mmap")
"""Options fixed when a runner loads: changing any of them reloads the model."""

DEFAULT_OPTIONS: dict[str, Any] = {
    "num_ctx": 4096,
    "num_batch": 512,
    "num_gpu": -1,
    "main_gpu": 0,
    "num_thread": 0,
    "use_mmap": None,
    "num_keep": 4,
    "num_predict": -1,
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "stop": [],
}


class OptionError(Exception):
    """``option "<k>" must be of type <t>``: Ollama answers 500."""


def _apply(target: dict[str, Any], given: dict[str, Any]) -> None:
    for key, value in given.items():
        if value is None:
            continue
        if key in _INT_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptionError(f'option "{key}" must be of type integer')
            target[key] = int(value)
        elif key in _FLOAT_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptionError(f'option "{key}" must be of type float32')
            target[key] = float(value)
        elif key == "use_mmap":
            if not isinstance(value, bool):
                raise OptionError(f'option "{key}" must be of type boolean')
            target[key] = value
        elif key == "stop":
            if not isinstance(value, list):
                raise OptionError(f'option "{key}" must be of type array')
            if not all(isinstance(v, str) for v in value):
                raise OptionError(f'option "{key}" must be of an array of strings')
            target[key] = list(value)


def effective_options(model_params: dict[str, Any], requested: dict[str, Any] | None) -> dict:
    """Defaults, then the Modelfile's PARAMETERs, then the request's options (Ollama's order)."""
    options = dict(DEFAULT_OPTIONS)
    _apply(options, model_params)
    _apply(options, requested or {})
    return options
