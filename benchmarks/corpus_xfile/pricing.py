"""Prices: margins, discounts and bulk tiers, all in cents."""

from __future__ import annotations

from models import Product

BULK_TIERS = ((100, 0.15), (50, 0.10), (10, 0.05))


def list_price_cents(product: Product, *, margin: float = 0.35) -> int:
    """The shelf price of ``product``: its cost plus ``margin`` of it."""
    return round(product.unit_cost_cents * (1 + margin))


def bulk_discount(quantity: int, *, tiers: tuple[tuple[int, float], ...] = BULK_TIERS) -> float:
    """The discount fraction for buying ``quantity`` units at once."""
    for minimum, fraction in tiers:
        if quantity >= minimum:
            return fraction
    return 0.0


def quote_cents(
    product: Product, quantity: int, *, margin: float = 0.35, coupon_cents: int = 0
) -> int:
    """What ``quantity`` units of ``product`` cost a customer, after bulk and coupon."""
    gross = list_price_cents(product, margin=margin) * quantity
    return max(0, round(gross * (1 - bulk_discount(quantity))) - coupon_cents)
