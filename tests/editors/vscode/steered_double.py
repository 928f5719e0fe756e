"""The Ollama double for the VS Code driver, steerable while code-server runs.

``python -m tests.editors.vscode.steered_double --port P --answer TEXT`` serves like
``python -m tests.ollama_double --answer TEXT``. Each JSON line on stdin then changes what it
does, or waits for something, and is acknowledged on stdout with ``steered {…}`` once done (or
``steer failed: …``), so the driver waits for that line, never for a while:

* ``{"answer": "…"}`` — what every generation answers from the next request on;
* ``{"firstTokenMs": 1500}`` — how long the first token takes: a slow model, so that an
  answer arrives after the user has typed on;
* ``{"awaitAsked": true}`` — until the model is asked for a completion (a generation with a
  prompt) after the previous line: a request is in flight;
* ``{"awaitIdle": true}`` — until no generation is running, nor starts within a second: every
  answer has been given.

One run of code-server (~100 s) thus plays several situations.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from tests.ollama_double import OllamaDouble
from tests.ollama_double.records import RecordedRequest

WAIT_S = 30.0
QUIET_S = 1.0
KEYS = {"answer", "firstTokenMs", "awaitAsked", "awaitIdle"}


def _generation(record: RecordedRequest) -> bool:
    body = record.body if isinstance(record.body, dict) else {}
    return record.path == "/api/generate" and bool(body.get("prompt"))


class Steering:
    """Applies the driver's lines to one double, in order."""

    def __init__(self, double: OllamaDouble) -> None:
        self.double = double
        self.mark = self._newest()

    def _newest(self) -> int:
        return max((r.id for r in self.double.requests), default=0)

    def apply(self, change: dict[str, object]) -> None:
        unknown = set(change) - KEYS
        if unknown:  # a typo in the driver must not pass for a no-op
            raise ValueError(f"unknown steering keys: {sorted(unknown)}")
        if "answer" in change:
            self.double.clear_scripts()
            self.double.script(str(change["answer"]))
        if "firstTokenMs" in change:
            self.double.latency.first_token_s = float(str(change["firstTokenMs"])) / 1000
        if change.get("awaitAsked"):
            mark = self.mark
            self.double.wait_for(lambda r: r.id > mark and _generation(r), WAIT_S)
        if change.get("awaitIdle"):
            self._await_idle()
        self.mark = self._newest()

    def _await_idle(self) -> None:
        """Until every generation has ended and no next one starts within ``QUIET_S``: the
        server follows a healing request with the generation itself, a moment later."""
        while True:
            for record in self.double.requests:
                if record.path == "/api/generate" and not record.done:
                    self.double.wait_for(
                        lambda r, wanted=record.id: r.id == wanted and r.done, WAIT_S
                    )
            newest = self._newest()
            try:
                self.double.wait_for(
                    lambda r, after=newest: r.id > after and _generation(r), QUIET_S
                )
            except TimeoutError:
                return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.editors.vscode.steered_double")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--answer", required=True)
    parser.add_argument("--pull-tick-ms", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    double = OllamaDouble(port=args.port, log_requests=True)
    double.latency.pull_tick_s = args.pull_tick_ms / 1000
    double.script(args.answer)
    with double:
        print(f"Ollama double listening on {double.url}", flush=True)
        steering = Steering(double)
        for line in sys.stdin:  # until the driver closes stdin or stops us
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                steering.apply(change)
            except (ValueError, TimeoutError) as err:
                print(f"steer failed: {err}".replace("\n", " | "), flush=True)
            else:
                print(f"steered {json.dumps(change, sort_keys=True)}", flush=True)


if __name__ == "__main__":
    main()
