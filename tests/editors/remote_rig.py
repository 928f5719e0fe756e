"""What the remote Neovim scenarios need beyond ``nvim.py``: a way for the editor to ask the test
to do something mid-session (kill a host), and the Lua that both ends of it speak.

The scenario runs in a separate Neovim process that the test waits on, so "kill the host that
served me, then I type on" needs a channel between them. Two named pipes make it one without
polling on either side: the scenario writes a request line to ``ask``; a thread of the test,
blocked reading ``ask``, wakes, runs the handler and writes its answer to ``answer``, which the
scenario reads through libuv (so Neovim's event loop, and its LSP client, keep running).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: Lua prepended to a scenario: ``ask_test(line)`` sends a request, waits, returns the answer.
ASK_LUA = r"""
local function ask_test(request)
  local ask = assert(io.open(assert(os.getenv("OLLAMA_TEST_ASK")), "w"))
  ask:write(request .. "\n")
  ask:close()
  local box = {}
  vim.uv.fs_open(assert(os.getenv("OLLAMA_TEST_ANSWER")), "r", 0, function(err, fd)
    assert(not err, err)
    vim.uv.fs_read(fd, 4096, -1, function(read_err, data)
      vim.uv.fs_close(fd)
      box.answer = read_err and ("error: " .. read_err) or (data or "")
    end)
  end)
  return vim.trim(H.wait(function() return box.answer end, 15000, "the test to " .. request))
end
"""

Handler = Callable[[str], str]


class Asked:
    """Serves the scenario's requests on a thread until the scenario is over.

    The thread holds both pipes open read-write (on Linux that never blocks), so neither end
    waits for the other to open, and a scenario that died mid-request leaves nothing blocked.
    """

    def __init__(self, directory: Path, handler: Handler) -> None:
        self.ask, self.answer = directory / "ask.fifo", directory / "answer.fifo"
        os.mkfifo(self.ask)
        os.mkfifo(self.answer)
        self._ask_fd = os.open(self.ask, os.O_RDWR)
        self._answer_fd = os.open(self.answer, os.O_RDWR)
        self.handler = handler
        self.requests: list[str] = []
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def env(self) -> dict[str, str]:
        return {"OLLAMA_TEST_ASK": str(self.ask), "OLLAMA_TEST_ANSWER": str(self.answer)}

    def _serve(self) -> None:
        with os.fdopen(self._ask_fd, "r", closefd=False) as pipe:
            for line in pipe:  # blocks until the scenario (or close()) writes a line
                request = line.strip()
                if not request:
                    return  # close(): the scenario is over
                self.requests.append(request)
                try:
                    reply = self.handler(request)
                except BaseException as exc:  # re-raised by close(); the scenario hears it
                    self.errors.append(exc)
                    reply = f"error: {exc!r}"
                os.write(self._answer_fd, (reply + "\n").encode())

    def close(self) -> None:
        """End the thread with an empty request; re-raise a handler's error."""
        os.write(self._ask_fd, b"\n")
        self._thread.join(10)
        os.close(self._ask_fd)
        os.close(self._answer_fd)
        if self.errors:
            raise self.errors[0]


@contextmanager
def asked(directory: Path, handler: Handler) -> Iterator[Asked]:
    served = Asked(directory, handler)
    try:
        yield served
    finally:
        served.close()
