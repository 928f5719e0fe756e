"""A server process under test whose output is read on a thread into ``lines``.

Both real servers the tests start (python's ``llama_cpp.server`` and llama.cpp's own
``llama-server``) are known by what they log: "running on"/"listening on" once up, a client's
disconnect, a slot's ``f_keep``. ``wait_for(text)`` waits on a condition for such a line, so
nothing polls or sleeps.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence


class LoggedProcess:
    """A subprocess whose stdout and stderr lines are kept, with waits on them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._process: subprocess.Popen[str] | None = None

    def _launch(self, command: Sequence[str], env: dict[str, str]) -> None:
        """Start ``command`` afresh (the lines of an earlier start are dropped)."""
        self.lines = []
        self._process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", env=env,
        )  # fmt: skip
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def mark(self) -> int:
        """The number of lines so far: ``wait_for(text, after=mark)`` looks only past it."""
        with self._changed:
            return len(self.lines)

    def wait_for(self, text: str, timeout: float, *, after: int = 0) -> bool:
        """Whether a line containing ``text`` (past ``after``) came within ``timeout``; False
        at once when the process has ended without it."""
        process = self._process

        def seen() -> bool:
            return any(text in line for line in self.lines[after:])

        with self._changed:
            return (
                self._changed.wait_for(
                    lambda: seen() or process is None or process.poll() is not None, timeout
                )
                and seen()
            )

    def stop(self) -> None:
        """Terminate it (killed after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
