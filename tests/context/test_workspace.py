"""The workspace context as the server and the engine use it, with plain strings."""

from __future__ import annotations

import glob
import os
import statistics
import sys
import time
from dataclasses import replace

import pytest

from ollama_lsp.context import ContextSettings, WorkspaceContext, render_block

MODELS = '''\
"""Orders and what they cost."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: float


def order_total(items: list[LineItem], *, discount: float = 0.0) -> float:
    """The price of ``items`` after ``discount`` (a fraction)."""
    return sum(i.quantity * i.unit_price for i in items) * (1 - discount)
'''

SERVICE_HEAD = """\
from models import LineItem


def checkout(cart):
    items = [LineItem(sku, n, price) for sku, n, price in cart]
    return """

MODELS_URI, SERVICE_URI = "file:///proj/shop/models.py", "file:///proj/shop/service.py"


def shop(**settings: object) -> WorkspaceContext:
    context = WorkspaceContext(replace(ContextSettings(), **settings), root="/proj")
    context.opened(MODELS_URI, "/proj/shop/models.py", "python", MODELS)
    context.opened(SERVICE_URI, "/proj/shop/service.py", "python", SERVICE_HEAD)
    return context


def test_a_call_of_a_function_defined_only_in_the_other_file_brings_its_signature() -> None:
    context = shop()
    for typed in ("order_total(", "order_tot"):
        tail = SERVICE_HEAD + typed
        context.changed(SERVICE_URI, tail)
        snippets = context.select(SERVICE_URI, tail, budget_chars=2000)
        signature = "def order_total(items: list[LineItem], *, discount: float = 0.0) -> float:"
        assert any(s.kind == "definition" and signature in s.text for s in snippets), typed
        assert all(s.path == "shop/models.py" for s in snippets)
        block = render_block(
            snippets, "codellama", language="python", current_path="shop/service.py"
        )
        assert signature in block
        assert block.endswith("# path: shop/service.py\n")


def test_select_and_render_are_deterministic() -> None:
    tail = SERVICE_HEAD + "order_total("
    first, second = shop(), shop()
    picked = first.select(SERVICE_URI, tail, budget_chars=2000)
    assert picked == first.select(SERVICE_URI, tail, budget_chars=2000)
    assert picked == second.select(SERVICE_URI, tail, budget_chars=2000)
    for family in ("qwen2.5-coder", "starcoder2", "codegemma", "deepseek-coder", "codellama"):
        one = render_block(picked, family, language="python", current_path="shop/service.py")
        two = render_block(picked, family, language="python", current_path="shop/service.py")
        assert one.encode() == two.encode() and one


def test_budget_bounds_the_block_by_whole_snippets() -> None:
    context = shop()
    tail = SERVICE_HEAD + "order_total("
    everything = context.select(SERVICE_URI, tail, budget_chars=10_000)
    assert len(everything) >= 2
    smallest = min(s.cost for s in everything)
    for budget in range(0, sum(s.cost for s in everything) + 1, 7):
        picked = context.select(SERVICE_URI, tail, budget_chars=budget)
        assert sum(s.cost for s in picked) <= budget
        assert set(picked) <= set(everything)  # whole snippets, never cut
        assert picked or budget < smallest
    capped = shop(max_tokens=20).select(SERVICE_URI, tail, budget_chars=10_000)
    assert sum(s.cost for s in capped) <= 60


def test_the_file_being_typed_offers_nothing_of_itself_near_the_cursor() -> None:
    context = shop()
    body = "\n".join(f"value_{n} = compute_{n}(order_total)" for n in range(200))
    context.changed(SERVICE_URI, body)  # every line edited
    context.changed(SERVICE_URI, body.replace("value_3 =", "value_3b ="), [3])
    context.changed(SERVICE_URI, body.replace("value_150 =", "value_150b ="), [150])
    tail = "\n".join(body.split("\n")[130:160])
    picked = context.select(SERVICE_URI, tail, budget_chars=3000, window=(130, 170))
    own = [s for s in picked if s.path == "shop/service.py"]
    assert own and all(s.kind == "edit" for s in own)
    assert all(s.last_line < 130 or s.first_line > 170 for s in own)
    # without an explicit window, the lines around where prefix_tail ends count as one
    picked = context.select(SERVICE_URI, tail, budget_chars=3000)
    assert all(
        s.last_line < 130 or s.first_line > 160 for s in picked if s.path.endswith("service.py")
    )


def test_recent_edits_of_other_files_newest_first() -> None:
    context = shop(definitions=False, similar=False)
    edited = MODELS.replace("sku: str", "sku: str  # stock keeping unit")
    context.changed(MODELS_URI, edited, [7])
    (edit,) = context.select(SERVICE_URI, SERVICE_HEAD, budget_chars=2000)
    assert edit.kind == "edit" and "stock keeping unit" in edit.text
    assert edit.first_line == 5 and edit.last_line == 9  # two lines of context each side


def test_each_source_can_be_turned_off() -> None:
    tail = SERVICE_HEAD + "order_total("
    assert shop(enabled=False).select(SERVICE_URI, tail, budget_chars=2000) == ()
    assert (
        shop(definitions=False, similar=False, recent_edits=False).select(
            SERVICE_URI, tail, budget_chars=2000
        )
        == ()
    )
    kinds = {s.kind for s in shop(similar=False).select(SERVICE_URI, tail, budget_chars=2000)}
    assert kinds == {"definition"}


def test_similar_windows_of_other_files() -> None:
    context = shop(definitions=False, recent_edits=False)
    other = "\n".join(
        ["import os"] * 30
        + ["def ship(parcel, courier):", "    label = courier.print_label(parcel.address)"]
        + ["    courier.pickup(parcel, label)"]
        + ["pass"] * 30
    )
    context.opened("file:///proj/ship.py", "/proj/ship.py", "python", other)
    tail = "def resend(parcel, courier):\n    label = courier.print_label(parcel."
    (window,) = context.select(SERVICE_URI, tail, budget_chars=2000)
    assert window.kind == "similar" and window.path == "ship.py"
    assert "courier.print_label(parcel.address)" in window.text


def test_a_closed_file_is_forgotten() -> None:
    context = shop()
    context.closed(MODELS_URI)
    assert context.select(SERVICE_URI, SERVICE_HEAD + "order_total(", budget_chars=2000) == ()


def test_definitions_follow_changes_of_the_other_file() -> None:
    context = shop()
    context.changed(MODELS_URI, MODELS.replace("def order_total(", "def basket_total("))
    tail = SERVICE_HEAD + "basket_total("
    assert any(
        "def basket_total(" in s.text for s in context.select(SERVICE_URI, tail, budget_chars=2000)
    )
    old = context.select(SERVICE_URI, SERVICE_HEAD + "order_total(", budget_chars=2000)
    assert not any("order_total" in s.text for s in old)


def test_paths_are_relative_to_the_workspace_root() -> None:
    context = WorkspaceContext(root="file:///proj")
    context.opened("file:///proj/a/b.py", "/proj/a/b.py", None, "def helper_fn():\n    pass\n")
    context.opened("file:///elsewhere/c.py", "", None, "def other_fn():\n    pass\n")
    picked = context.select("file:///x.py", "helper_fn(other_fn(", budget_chars=2000)
    assert sorted(s.path for s in picked) == ["/elsewhere/c.py", "a/b.py"]
    assert context.repo_name == "proj"


def _stdlib_files(count: int, lines: int) -> list[tuple[str, str]]:
    paths = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    texts = []
    for path in sorted(paths, key=os.path.getsize, reverse=True)[:count]:
        with open(path, encoding="utf-8", errors="replace") as handle:
            body = handle.read().split("\n")
        while len(body) < lines:
            body += body
        texts.append((path, "\n".join(body[:lines])))
    return texts


@pytest.mark.skipif(sys.flags.dev_mode, reason="timing")
def test_select_is_cheap_with_50_open_files_of_2000_lines() -> None:
    files = _stdlib_files(50, 2000)
    assert len(files) == 50
    context = WorkspaceContext()
    for path, text in files:
        context.opened("file://" + path, path, "python", text)
    current = "file://" + files[0][0]
    lines = files[0][1].split("\n")
    tails = ["\n".join(lines[at - 30 : at]) + "\n    self." for at in range(100, 1900, 60)]
    spent = []
    for tail in tails:
        start = time.process_time()  # CPU time: other processes share these cores
        context.select(current, tail, budget_chars=1536)
        spent.append((time.process_time() - start) * 1000)
    assert statistics.median(spent) <= 5.0, spent


def test_names_imported_far_above_the_cursor_are_looked_up_too() -> None:
    context = shop()
    body = "from models import order_total\n" + "\n".join(f"step_{n}()" for n in range(60))
    context.changed(SERVICE_URI, body)
    tail = "\n".join(body.split("\n")[-30:]) + "\ntotal = "
    assert "order_total" not in tail
    picked = context.select(SERVICE_URI, tail, budget_chars=2000)
    assert any("def order_total(" in s.text for s in picked)


def test_crlf_files_give_clean_snippets_and_unknown_documents_are_harmless() -> None:
    context = WorkspaceContext()
    context.opened("file:///w/a.py", "/w/a.py", "python", "def crlf_fn(x):\r\n    return x\r\n")
    context.changed("file:///never-opened.py", "text")  # ignored
    context.saved("file:///never-opened.py")
    context.closed("file:///never-opened.py")
    (picked,) = context.select("file:///never-opened.py", "crlf_fn(", budget_chars=500)
    assert picked.text == "def crlf_fn(x):"


def test_a_smaller_similar_window_setting_rebuilds_the_windows() -> None:
    context = shop(definitions=False, recent_edits=False)
    context.configure(replace(context.settings, similar_window_lines=4))
    tail = "def checkout(cart):\n    items = [LineItem(sku, n, price) for sku, n, price in cart]"
    windows = context.select(SERVICE_URI, tail, budget_chars=5000)
    assert windows and all(s.last_line - s.first_line < 4 for s in windows)


def test_parenthesised_imports_count_as_imports() -> None:
    context = shop()
    body = "from models import (\n    LineItem,\n    order_total,\n)\n" + "pass\n" * 60
    context.changed(SERVICE_URI, body)
    picked = context.select(SERVICE_URI, "pass\n" * 30 + "x = ", budget_chars=2000)
    assert any("def order_total(" in s.text for s in picked)
    assert any("class LineItem:" in s.text for s in picked)
