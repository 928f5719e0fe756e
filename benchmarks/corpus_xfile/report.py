from models import StockLevel, available_units, reorder_quantity
from pricing import list_price_cents, quote_cents


def stock_value_cents(levels: list[StockLevel]) -> int:
    return sum(list_price_cents(level.product, margin=0.0) * level.on_hand for level in levels)


def shortfalls(levels: list[StockLevel], demand: dict[str, float]) -> dict[str, int]:
    result = {}
    for level in levels:
        rate = demand.get(level.product.sku, 0.0)
        result[level.product.sku] = reorder_quantity(level, lead_days=7, daily_demand=rate)
    return result


def promise_table(levels: list[StockLevel]) -> list[tuple[str, int]]:
    return [(level.product.sku, available_units(level, include_on_order=True)) for level in levels]


def big_order_quote(level: StockLevel) -> int:
    return quote_cents(level.product, 120, margin=0.2, coupon_cents=500)
