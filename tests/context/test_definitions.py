"""The lexical definitions index, with plain strings."""

from __future__ import annotations

from ollama_lsp.context.definitions import Definition, definition_lines, find_definitions

PYTHON = '''\
import dataclasses

@dataclasses.dataclass(frozen=True)
class Order:
    """A customer's order."""
    id: int
    lines: list[float]

    def total(self,
              tax: float = 0.2) -> float:
        """What the customer pays.

        Tax included."""
        def helper():
            return 0
        return sum(self.lines) * (1 + tax)

MAX_LINES: int = 10

def make_order(order_id: int) -> Order:
    return Order(order_id, [])

if __name__ == "__main__":
    def not_top_level():
        pass
'''


def snippet_of(source: str, group: str, name: str) -> str:
    lines = source.split("\n")
    (definition,) = [d for d in find_definitions(lines, group) if d.name == name]
    start, stop = definition_lines(lines, definition, group)
    return "\n".join(lines[start:stop])


def test_python_top_level_and_class_level_definitions_only() -> None:
    found = find_definitions(PYTHON.split("\n"), "python")
    assert [(d.name, d.kind) for d in found] == [
        ("Order", "class"),
        ("total", "function"),
        ("MAX_LINES", "value"),
        ("make_order", "function"),
    ]
    assert found[0] == Definition("Order", 3, "class")


def test_python_snippet_has_decorator_fields_signature_and_docstring() -> None:
    assert snippet_of(PYTHON, "python", "Order").startswith(
        '@dataclasses.dataclass(frozen=True)\nclass Order:\n    """A customer\'s order."""\n'
        "    id: int\n    lines: list[float]"
    )
    assert snippet_of(PYTHON, "python", "total") == (
        "    def total(self,\n"
        "              tax: float = 0.2) -> float:\n"
        '        """What the customer pays.\n'
        "\n"
        '        Tax included."""'
    )
    assert snippet_of(PYTHON, "python", "make_order") == ("def make_order(order_id: int) -> Order:")


JS = """\
/** Builds a router. */
export function makeRouter(routes, {
  strict = false,
} = {}) {
  return new Router(routes, strict);
}

export class Router {
  constructor(routes) {
    this.routes = routes;
  }
  async route(path) {
    if (path) {
      return null;
    }
  }
}
export const API_URL = "/api";
"""


def test_javascript_functions_classes_methods_and_constants() -> None:
    found = find_definitions(JS.split("\n"), "js")
    assert [(d.name, d.kind) for d in found] == [
        ("makeRouter", "function"),
        ("Router", "class"),
        ("constructor", "function"),
        ("route", "function"),
        ("API_URL", "value"),
    ]
    assert snippet_of(JS, "js", "makeRouter").startswith(
        "/** Builds a router. */\nexport function makeRouter(routes, {\n  strict = false,\n} = {}) {"
    )
    assert snippet_of(JS, "js", "route") == (
        "  async route(path) {\n    if (path) {\n      return null;\n    }\n  }"
    )


GO = """\
package cache

// Cache keeps values for a while.
type Cache struct {
\tmu    sync.Mutex
\titems map[string]entry
}

func (c *Cache) Get(key string) (string, bool) {
\treturn "", false
}

func New(size int) *Cache {
\treturn &Cache{}
}
"""


def test_go_types_functions_and_methods() -> None:
    found = find_definitions(GO.split("\n"), "go")
    assert [d.name for d in found] == ["Cache", "Get", "New"]
    assert snippet_of(GO, "go", "Cache") == (
        "// Cache keeps values for a while.\ntype Cache struct {\n"
        "\tmu    sync.Mutex\n\titems map[string]entry\n}"
    )


RUST = """\
pub struct Point {
    pub x: f64,
}

impl Point {
    pub fn distance(&self, other: &Point) -> f64 {
        0.0
    }
}

pub(crate) async fn load(path: &str) -> Result<Point, Error> {
    todo!()
}
"""


def test_rust_structs_impl_methods_and_functions() -> None:
    found = find_definitions(RUST.split("\n"), "rust")
    assert [(d.name, d.kind) for d in found] == [
        ("Point", "class"),
        ("distance", "function"),
        ("load", "function"),
    ]
    assert snippet_of(RUST, "rust", "load").startswith(
        "pub(crate) async fn load(path: &str) -> Result<Point, Error> {"
    )
