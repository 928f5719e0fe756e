"""Stock records of a small warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Product:
    """Something the warehouse sells."""

    sku: str
    title: str
    unit_cost_cents: int
    supplier_code: str


@dataclass
class StockLevel:
    """How many of a product are on the shelves and on order."""

    product: Product
    on_hand: int
    on_order: int = 0
    reserved: int = 0
    history: list[int] = field(default_factory=list)


def available_units(level: StockLevel, *, include_on_order: bool = False) -> int:
    """Units that can be promised to a customer now."""
    units = level.on_hand - level.reserved
    if include_on_order:
        units += level.on_order
    return max(0, units)


def reorder_quantity(level: StockLevel, *, lead_days: int, daily_demand: float) -> int:
    """How many units to order so that stock lasts through the supplier's lead time."""
    needed = round(lead_days * daily_demand) - available_units(level, include_on_order=True)
    return max(0, needed)


def make_sku(category: str, serial: int, *, width: int = 6) -> str:
    """A stock keeping unit such as ``TOOL-000042``."""
    return f"{category.upper()}-{serial:0{width}d}"
