"""Command line: ``ollama-lsp`` runs the language server (stdio by default).

``ollama-lsp check`` asks Ollama what it has, so a new user can see in one command whether
the server will work before wiring up an editor. Logs go to the editor (``window/logMessage``)
once it has connected, else to stderr (or ``--log-file``; see ``logs``): on stdio, stdout is the
LSP channel and must carry nothing else.
"""

from __future__ import annotations

import argparse
import asyncio

from . import __version__, logs
from .ollama.client import OllamaClient
from .ollama.errors import OllamaError
from .http.endpoint import HostError, host_from_env, redact_userinfo

DEFAULT_MODEL = "codellama:7b-code"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ollama-lsp",
        description="Language server for AI code completion from local Ollama models.",
    )
    parser.add_argument("--version", action="version", version=f"ollama-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP bind address (with --tcp)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (with --tcp)")
    parser.add_argument(
        "--ollama-host",
        default=None,
        help="Ollama base URL (default: $OLLAMA_HOST or 127.0.0.1:11434)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (logs go to the editor's log, and to stderr before it connects)",
    )
    parser.add_argument("--log-file", default=None, help="log to this file instead of stderr")
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check", help="check that Ollama is reachable and list its models")
    check.add_argument("--model", default=DEFAULT_MODEL, help="model the editor will use")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level, args.log_file)
    if args.command == "check":
        return asyncio.run(_check(args.ollama_host or host_from_env(), args.model))
    from . import stdio  # imported late: `--version` and `check` stay fast
    from .server import create_server

    server = create_server(args.ollama_host)
    if args.tcp:
        server.start_tcp(args.host, args.port)
        return 0
    stdio.serve(server)  # ends the process on ``exit`` or the end of input (see stdio)


async def _check(host: str | None, model: str) -> int:
    try:
        client = OllamaClient(host)
    except HostError as exc:
        print(f"OLLAMA_HOST / --ollama-host: expected {exc}, got {redact_userinfo(host or '')!r}")
        return 1
    try:
        version = await client.version()
        models = await client.list_models()
    except OllamaError as exc:
        print(exc.message)
        return 1
    finally:
        await client.aclose()
    print(f"Ollama {version} at {client.host}: {len(models)} model(s) installed")
    for info in models:
        d = info.details
        print(
            f"  {info.name:40} {info.size / 1e9:6.2f} GB  {d.parameter_size:>6} {d.quantization_level}"
        )
    if not any(info.name == model or info.name == f"{model}:latest" for info in models):
        print(f"Model '{model}' is not installed — run `ollama pull {model}`")
        return 1
    print(f"Ready: completions will use {model}")
    return 0
