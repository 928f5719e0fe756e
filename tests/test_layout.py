"""The house rules of ``../shared/STYLE.md`` that a machine can check: no import circles in
``ollama_lsp/``, no module over ~300 lines, and each floor importing only what it may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ollama_lsp"
MAX_LINES = 320
#: Floors that must stay free of the LSP (pygls/lsprotocol) and of HTTP (httpx).
PURE = ("completion", "context", "provider", "hosts")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Modules ``path`` imports, outside ``if TYPE_CHECKING:`` blocks, resolved to full names."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                root = ".".join(base)
                target = f"{root}.{node.module}" if node.module else root
                if node.module is None:
                    found.update(f"{root}.{alias.name}" for alias in node.names)
                else:
                    found.add(target)
            else:
                found.add(node.module or "")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def internal_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        graph[name] = {m for m in imports(path) if m in MODULES and m != name}
    return graph


def test_no_import_circles() -> None:
    graph = internal_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_long(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it along a real seam"


@pytest.mark.parametrize("floor", PURE)
def test_pure_floors_know_neither_lsp_nor_http(floor: str) -> None:
    for name, path in MODULES.items():
        if name == f"ollama_lsp.{floor}" or name.startswith(f"ollama_lsp.{floor}."):
            external = {m.split(".")[0] for m in imports(path)}
            assert not external & {"pygls", "lsprotocol", "httpx"}, name


def test_backends_know_no_lsp() -> None:
    for name, path in MODULES.items():
        if name.startswith(("ollama_lsp.ollama", "ollama_lsp.openai", "ollama_lsp.http")):
            assert not {m.split(".")[0] for m in imports(path)} & {"pygls", "lsprotocol"}, name
