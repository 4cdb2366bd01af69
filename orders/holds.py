"""How much stock unpaid orders from new customers may hold (pure, no I/O).

Stock is reserved when the invoice is issued, so a fresh key costs nothing and
holds stock until its invoice expires; a hundred fresh keys can hold any
amount. Two rules bound that, both about customers with no paid order at this
merchant ("new"): their invoices expire sooner (`invoice_expiry`), and together
they may hold at most a share of each product's stock (`check_share`), so the
rest stays orderable by returning customers, and by anyone once the new
customers' short invoices run out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .pricing import OrderInvalid
from .state import OrderItem


def invoice_expiry(standard: int, new_customer: int, returning: bool) -> int:
    """Seconds an invoice (and its reservation) lasts: shorter for a new customer."""
    return standard if returning else min(new_customer, standard)


def share_cap(stock: int, share_percent: int) -> int:
    """Units new customers may hold unpaid: `share_percent` of the stock, rounded down,
    yet at least 1 while there is stock (so a new customer can always order one)."""
    if stock <= 0:
        return 0
    return max(1, stock * share_percent // 100)


@dataclass(frozen=True)
class ProductHolds:
    """One product as the share rule sees it, read inside the order's transaction."""

    product_id: str
    name: str
    available: int  # products.quantity: not reserved, not sold
    held: int  # units held by every unpaid order (products.held)
    held_by_new: int | None = None  # of those, by customers with no paid order (None: not
    # counted, then `held` stands in for it: an upper bound)
    next_release: int | None = None  # when the first of those new-customer holds expires

    @property
    def stock(self) -> int:
        """The product's unsold stock: what is free plus what unpaid orders hold."""
        return self.available + self.held

    @property
    def by_new(self) -> int:
        return self.held if self.held_by_new is None else self.held_by_new


def _wanted(items: tuple[OrderItem, ...]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.product_id] = wanted.get(item.product_id, 0) + item.quantity
    return wanted


def _over(product: ProductHolds, quantity: int, share_percent: int, held: int) -> bool:
    """Whether `held` new-customer units plus this order pass the product's share."""
    if quantity > product.available:
        return False  # not enough stock at all: the reservation refuses it, saying so
    return held + quantity > share_cap(product.stock, share_percent)


def crowded(
    items: tuple[OrderItem, ...], holds: dict[str, ProductHolds], share_percent: int
) -> list[str]:
    """The products whose new-customer holds must be counted to decide: those where even
    counting every hold as a new customer's would break the share (the rest pass as is,
    so a product with plenty of stock costs no count, however many orders hold it)."""
    if share_percent >= 100:
        return []
    return [
        pid
        for pid, quantity in _wanted(items).items()
        if pid in holds and _over(holds[pid], quantity, share_percent, holds[pid].held)
    ]


def check_share(
    items: tuple[OrderItem, ...], holds: dict[str, ProductHolds], share_percent: int, now: int
) -> None:
    """`OrderInvalid` when a new customer's order would push new-customer holds of a
    product above its share; the reason says how long until some are released."""
    if share_percent >= 100:
        return
    for product_id, quantity in _wanted(items).items():
        product = holds.get(product_id)
        if product is None:
            continue  # unknown product: pricing has refused it already
        if _over(product, quantity, share_percent, product.by_new):
            cap = share_cap(product.stock, share_percent)
            raise OrderInvalid(_reason(product, quantity, cap, now))


def _reason(product: ProductHolds, quantity: int, cap: int, now: int) -> str:
    if quantity > cap:
        return (
            f"until you have paid for an order here, at most {cap} of {product.name}"
            " can be reserved at once; order fewer"
        )
    units, verb = ("unit", "is") if product.by_new == 1 else ("units", "are")
    held = f"{product.by_new} {units} of {product.name} {verb} held by unpaid orders"
    if product.next_release is None:
        return f"{held}; try again later"
    minutes = max(1, math.ceil((product.next_release - now) / 60))
    return f"{held}; try again in {minutes} minute{'' if minutes == 1 else 's'}"
