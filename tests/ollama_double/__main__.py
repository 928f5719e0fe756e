"""Run the double by hand: ``python -m tests.ollama_double --port 11434``.

Useful for trying ``ollama-lsp`` in an editor without Ollama. Requests are logged to stderr.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .catalogue import DEFAULT_INSTALLED, LIBRARY
from .server import OllamaDouble

REAL_NAMES = sorted(name for name, spec in LIBRARY.items() if spec.weights == name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.ollama_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument(
        "--install",
        nargs="*",
        metavar="NAME",
        help=f"installed models instead of the default {', '.join(DEFAULT_INSTALLED)}; "
        f"the library has {', '.join(sorted({s.name for s in LIBRARY.values()}))}",
    )
    parser.add_argument("--load-ms", type=float, default=0.0, help="cold load / reload time")
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--token-ms", type=float, default=0.0, help="time per streamed token")
    parser.add_argument("--prompt-token-ms", type=float, default=0.0)
    parser.add_argument("--pull-tick-ms", type=float, default=60.0)
    parser.add_argument("--answer", help="answer every generate/chat request with this text")
    parser.add_argument(
        "--real",
        action="append",
        metavar="NAME",
        choices=REAL_NAMES,
        help="serve this real model with llama.cpp (repeatable; installed besides --install, "
        f"which then defaults to none): {', '.join(REAL_NAMES)}",
    )
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (--real)")
    parser.add_argument(
        "--batch", type=int, help="prompt batch size (--real; default: num_batch, as Ollama)"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    installed, engine = args.install, None
    if args.real:
        from .engines.llama import LlamaEngine

        engine = LlamaEngine(threads=args.threads, batch=args.batch)
        missing = [name for name in args.real if not engine.serves(LIBRARY[name])]
        if missing:
            parser.error(f"no weights installed for {', '.join(missing)} (tests/real/weights.txt)")
        installed = [*(installed or []), *args.real]
    double = OllamaDouble(
        installed=installed, host=args.host, port=args.port, log_requests=True, engine=engine
    )
    double.latency.load_s = args.load_ms / 1000
    double.latency.first_token_s = args.first_token_ms / 1000
    double.latency.per_token_s = args.token_ms / 1000
    double.latency.prompt_token_s = args.prompt_token_ms / 1000
    double.latency.pull_tick_s = args.pull_tick_ms / 1000
    if args.answer is not None:
        double.script(args.answer)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with double:
        logging.getLogger("ollama_double").info(
            "Ollama double listening on %s with %s", double.url, ", ".join(double.installed)
        )
        stop.wait()


if __name__ == "__main__":
    main()
