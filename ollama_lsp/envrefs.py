"""``${env:NAME}`` references in setting values, filled in from the environment.

Secrets such as an API token belong in the environment, not in a settings file that gets
committed or shared, so values like ``"Bearer ${env:OLLAMA_LSP_TOKEN}"`` name the variable
instead. The syntax is VS Code's, so one settings file reads the same in every editor.

Settings keep values *unexpanded* (a repr, a log line or ``ollama.status`` can then only ever
show the reference); callers expand right before use, so a variable set later is picked up.
Expansion is one pass: a value that itself contains ``${env:...}`` is not expanded again, so a
variable cannot pull in another one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

#: ``${env:NAME}``; the name is anything up to ``}`` (Windows allows odd characters in names).
_REFERENCE = re.compile(r"\$\{env:([^}]+)\}")


class MissingVariable(LookupError):
    """A referenced environment variable is not set. The message names it, never a value."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the environment variable {name} is not set (a setting refers to it as "
            f"${{env:{name}}}); set it where the editor starts the language server, "
            "then restart the server"
        )
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


def expand(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every ``${env:NAME}`` replaced by ``NAME``'s value in ``environ``.

    ``environ`` defaults to the process environment. Raises ``MissingVariable`` for the first
    variable that is not set: sending the literal reference (or an empty value) would only
    fail later as a puzzling "401 Unauthorized".
    """
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingVariable(name)
        return env[name]

    return _REFERENCE.sub(value, text)


def names(text: str) -> tuple[str, ...]:
    """The variables ``text`` refers to, in order, each once (for status and checks)."""
    return tuple(dict.fromkeys(_REFERENCE.findall(text)))
