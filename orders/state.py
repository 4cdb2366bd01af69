"""The frozen values an order is made of, and the state folded from its events.

`OrderDetails` is what the customer asked for, `Quote` its price, `Invoice` the
Lightning invoice for it. `OrderState` is the order as its events made it; the
state machine in `orders.py` builds it with `apply` and reads it in `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Where an order stands; the allowed moves between them are `machine.TRANSITIONS`."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUND_NEEDED = "refund_needed"
    REFUNDED = "refunded"  # the merchant says the money that needed refunding went back


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class OrderDetails:
    """What the customer asked for (a NIP-15 type 0 or a Gamma type 1), as received."""

    customer: str
    items: tuple[OrderItem, ...]
    transport: str = "nip04"
    zone_id: str | None = None
    stall_id: str | None = None
    address: str | None = None
    name: str | None = None
    message: str | None = None
    contact: dict[str, str] = field(default_factory=dict)
    event_id: str | None = None
    created_at: int = 0
    dialect: str = "nip15"  # the message format it came in: "nip15" or "gamma"

    def same_order(self, other: OrderDetails) -> bool:
        """True when `other` is this order sent again (same customer, items, zone, address)."""
        key = (self.customer, sorted_items(self.items), self.zone_id, self.address)
        return key == (other.customer, sorted_items(other.items), other.zone_id, other.address)


@dataclass(frozen=True)
class LinePrice:
    """A product's unit price when the order was priced: an exact decimal in `currency`
    (kept so the merchant sees what was charged, whatever the catalogue says later)."""

    product_id: str
    price: str
    currency: str


@dataclass(frozen=True)
class Quote:
    """The price of an order in millisatoshis, and the fiat amount and rate behind it."""

    zone_id: str | None
    subtotal_msat: int
    shipping_msat: int
    total_msat: int
    currency: str = "sat"
    fiat_amount: str | None = None
    fiat_rate: str | None = None
    lines: tuple[LinePrice, ...] = ()  # empty for orders priced before lines were kept


@dataclass(frozen=True)
class Invoice:
    payment_hash: str
    bolt11: str
    amount_msat: int
    expires_at: int


def sorted_items(items: tuple[OrderItem, ...]) -> tuple[OrderItem, ...]:
    return tuple(sorted(items, key=lambda item: item.product_id))


@dataclass(frozen=True)
class OrderState:
    """An order as its events made it; `status is None` means it does not exist yet."""

    order_id: str
    status: Status | None = None
    version: int = 0
    details: OrderDetails | None = None
    quote: Quote | None = None
    invoice: Invoice | None = None
    invoices: frozenset[str] = frozenset()
    payments: frozenset[str] = frozenset()
    paid: bool = False
    shipped: bool = False
    stock: str = "none"  # none | held | sold | released
    reason: str | None = None
    message: str | None = None
    refund_msat: int = 0

    @property
    def items(self) -> tuple[OrderItem, ...]:
        return self.details.items if self.details else ()
