"""Run real VS Code (code-server) with the built extension, in a loopback-only network namespace.

``tools/install.sh`` (run by ``.ci/run``) puts code-server, playwright-core and the built
``ollama-lsp.vsix`` into ``.ci-vscode/`` (or ``$OLLAMA_LSP_VSCODE_DIR``). This module finds
them, lays out a private VS Code profile (user data, extensions, HOME, XDG dirs, TMPDIR), and
runs ``driver.js`` — which starts the Ollama double, code-server and Chromium and plays the
scenario — under ``ip netns exec`` in a namespace that has only ``lo``: nothing the editor,
the server or the browser does can leave the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).with_name("driver.js")
CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "OLLAMA_LSP_REQUIRE_EDITORS"


@dataclass(frozen=True)
class Tools:
    root: Path

    @property
    def entry(self) -> Path:
        return self.root / "node_modules" / "code-server" / "out" / "node" / "entry.js"

    @property
    def vsix(self) -> Path:
        return self.root / "ollama-lsp.vsix"

    @property
    def playwright(self) -> Path:
        return self.root / "node_modules" / "playwright-core"


def tools_dir() -> Path:
    return Path(os.environ.get("OLLAMA_LSP_VSCODE_DIR") or REPO / ".ci-vscode")


def missing() -> str | None:
    """Why the test cannot run here, or None when everything it needs is present."""
    tools = Tools(tools_dir())
    for path, what in (
        (tools.entry, "code-server"),
        (tools.playwright, "playwright-core"),
        (tools.vsix, "the built ollama-lsp.vsix"),
    ):
        if not path.exists():
            return f"{what} is not at {path} (run tests/editors/vscode/tools/install.sh)"
    if not Path(CHROMIUM).exists():
        return f"no {CHROMIUM} (apt-get install chromium)"
    if shutil.which("node") is None:
        return "no node on PATH"
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and `ip` for the loopback-only network namespace"
    if _server_path() is None:
        return "no ollama-lsp executable beside this python (pip install -e .)"
    return None


def _server_path() -> Path | None:
    """``$OLLAMA_LSP_TEST_SERVER``, else the ``ollama-lsp`` script beside this python."""
    named = os.environ.get("OLLAMA_LSP_TEST_SERVER")
    candidate = Path(named) if named else Path(sys.executable).with_name("ollama-lsp")
    return candidate if candidate.exists() else None


@contextlib.contextmanager
def loopback_namespace() -> Iterator[str]:
    """A fresh network namespace with only ``lo`` up; deleted afterwards."""
    name = f"ollama-lsp-vscode-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@dataclass
class Run:
    results: dict[str, Any]
    log: str
    workdir: Path

    def step(self, name: str) -> dict[str, Any]:
        """One step's observations; fails the test with the driver's error when it failed."""
        step = self.results.get("steps", {}).get(name)
        assert step is not None, f"the driver never reached step {name!r}\n{self.tail()}"
        assert step.get("ok"), f"step {name!r} failed: {step.get('error')}\n{self.tail()}"
        return step

    def tail(self) -> str:
        return "driver log (end):\n" + self.log[-6000:]


def machine_settings(server: Path) -> dict[str, Any]:
    """code-server is a remote window: machine-scoped settings such as ``ollamaLsp.serverPath``
    are read from the remote ("Machine") settings there, not from the user's."""
    return {"ollamaLsp.serverPath": str(server), "ollamaLsp.serverArgs": ["--log-level", "INFO"]}


def user_settings() -> dict[str, Any]:
    """The VS Code user settings: a quiet workbench, nothing that goes online."""
    return {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "workbench.welcomePage.walkthroughs.openOnInstall": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "extensions.ignoreRecommendations": True,
        "chat.disableAIFeatures": True,
        "window.restoreWindows": "none",
        "files.autoSave": "off",
        "editor.inlineSuggest.enabled": True,
        # The typing checks type "r", "re", "rx" over and over; VS Code's word list (built in
        # its worker from earlier versions of the file) then offers "re" itself, and the
        # suggest widget, when open, takes Tab from the ghost (by design). Ghost text only.
        "editor.wordBasedSuggestions": "off",
        "editor.minimap.enabled": False,
        "editor.fontSize": 15,
        "window.zoomLevel": 0,
        "workbench.colorTheme": "Default Dark Modern",
    }


def run_driver(workdir: Path, scenario: dict[str, Any], timeout: float) -> Run:
    """Lay out the profile, install the .vsix, and run the driver in a fresh namespace."""
    tools = Tools(tools_dir())
    server = _server_path()
    assert server is not None
    home = workdir / "home"
    user_data = workdir / "user-data"
    extensions = workdir / "extensions"
    for folder in (home, user_data / "User", user_data / "Machine", extensions, workdir / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    (workdir / "shots").mkdir(exist_ok=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(user_settings(), indent=2))
    (user_data / "Machine" / "settings.json").write_text(
        json.dumps(machine_settings(server), indent=2)
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TMPDIR": str(workdir / "tmp"),
        "EXTENSIONS_GALLERY": "{}",  # no marketplace at all (the default would be open-vsx)
        "LANG": "C.UTF-8",
    }
    config = {
        **scenario,
        "repo": str(REPO),
        "python": sys.executable,
        "entry": str(tools.entry),
        "playwright": str(tools.playwright),
        "chromium": CHROMIUM,
        "vsix": str(tools.vsix),
        "workdir": str(workdir),
        "userData": str(user_data),
        "extensions": str(extensions),
        "settingsFile": str(user_data / "User" / "settings.json"),
        "machineSettingsFile": str(user_data / "Machine" / "settings.json"),
        "shots": str(workdir / "shots"),
        "results": str(workdir / "results.json"),
    }
    (workdir / "config.json").write_text(json.dumps(config, indent=2))
    log_path = workdir / "driver.log"
    with loopback_namespace() as namespace, log_path.open("w") as log:
        command = [
            "ip",
            "netns",
            "exec",
            namespace,
            "node",
            str(DRIVER),
            str(workdir / "config.json"),
        ]
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            # The driver stops its children itself; this is for a driver that hung or died.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = log_path.read_text(errors="replace")
    results_path = workdir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    return Run(results, text, workdir)
