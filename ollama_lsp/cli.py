"""Command line: ``ollama-lsp`` runs the language server (stdio by default).

``ollama-lsp check`` asks each configured host what it has, so a new user can see in one
command whether the server will work before wiring up an editor (``--settings`` reads the same
``ollama`` settings the editor sends: a pool, an OpenAI-compatible ``api``, headers, a CA file). Logs go to the editor (``window/logMessage``)
once it has connected, else to stderr (or ``--log-file``; see ``logs``): on stdio, stdout is the
LSP channel and must carry nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from . import __version__, logs, settings
from .backend import Backend, config_from
from .http.endpoint import HostError, host_from_env, parse_endpoint, redact_userinfo
from .provider import ModelInfo, ProviderError
from .settings import DEFAULT_MODEL


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
    check.add_argument("--model", default=None, help="model the editor will use")
    check.add_argument(
        "--settings", default=None, metavar="FILE",
        help="a JSON file with the editor's `ollama` settings (host list, api, headers, tls)",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level, args.log_file)
    if args.command == "check":
        raw = _read_settings(args.settings)
        if raw is None:
            return 1
        return asyncio.run(_check(args.ollama_host or host_from_env(), args.model, raw))
    from . import stdio  # imported late: `--version` and `check` stay fast
    from .server import create_server

    server = create_server(args.ollama_host)
    if args.tcp:
        server.start_tcp(args.host, args.port)
        return 0
    stdio.serve(server)  # ends the process on ``exit`` or the end of input (see stdio)


def _read_settings(path: str | None) -> dict[str, object] | None:
    """The ``--settings`` file's JSON (``{}`` without one), or None after saying why not."""
    if not path:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        print(f"--settings {path}: cannot read it as JSON ({exc})")
        return None


async def _check(host: str | None, model: str | None, raw: object) -> int:
    try:
        fallback = parse_endpoint(host)
    except HostError as exc:
        print(f"OLLAMA_HOST / --ollama-host: expected {exc}, got {redact_userinfo(host or '')!r}")
        return 1
    result = settings.parse(raw)
    for error in result.errors:
        print(f"ignored: {error}")
    config = result.settings
    backend = Backend(config_from(config, fallback))
    for problem in backend.problems:
        print(problem)
    wanted = model or config.model or DEFAULT_MODEL
    try:
        return await _report(backend, wanted)
    finally:
        await backend.aclose()


async def _report(backend: Backend, model: str) -> int:
    """One block per host: reachable or why not, what it serves; 0 when one can serve ``model``."""
    ready = False
    for member in backend.pool.members:
        try:
            version = await member.probe()
            models = await member.provider.list_models()
        except ProviderError as exc:
            print(f"{member.host}: down — {exc.message}")
            continue
        what = "Ollama" if member.store is not None else "OpenAI-compatible server"
        print(f"{what} {version} at {member.host}: up, {len(models)} model(s)")
        for info in models:
            print(_row(info))
        if any(info.name == model or info.name == f"{model}:latest" for info in models):
            ready = True
        else:
            fix = f"run `ollama pull {model}`" if member.store is not None else "serve it there"
            print(f"  Model '{model}' is not available on {member.host} — {fix}")
    if ready:
        print(f"Ready: completions will use {model}")
    return 0 if ready else 1


def _row(info: ModelInfo) -> str:
    d = info.details
    size = f"{info.size / 1e9:6.2f} GB" if info.size else " " * 9
    return f"  {info.name:40} {size}  {d.parameter_size:>6} {d.quantization_level}"
