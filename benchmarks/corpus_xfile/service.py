from models import Product, StockLevel, available_units, make_sku, reorder_quantity
from pricing import bulk_discount, list_price_cents, quote_cents


def new_product(category: str, serial: int, title: str, cost: int) -> Product:
    sku = make_sku(category, serial, width=6)
    return Product(sku=sku, title=title, unit_cost_cents=cost, supplier_code="ACME")


def can_promise(level: StockLevel, wanted: int) -> bool:
    return available_units(level, include_on_order=False) >= wanted


def restock(level: StockLevel, demand: float) -> int:
    return reorder_quantity(level, lead_days=14, daily_demand=demand)


def price_for(level: StockLevel, quantity: int, coupon: int) -> int:
    return quote_cents(level.product, quantity, margin=0.35, coupon_cents=coupon)


def shelf_label(product: Product) -> str:
    price = list_price_cents(product, margin=0.35)
    return f"{product.title}: {price / 100:.2f}"


def volume_note(quantity: int) -> str:
    fraction = bulk_discount(quantity, tiers=((100, 0.15), (50, 0.10)))
    return f"{fraction:.0%} off for {quantity} units"
