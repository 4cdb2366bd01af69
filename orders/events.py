"""The past-tense events of an order: what happened, as the order log stores it.

`decide` returns these and `apply` folds them into the state. `EVENT_TYPES` maps
each event's class name (the `type` column of the log) back to its class, so the
log can be decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from .state import Invoice, OrderDetails, OrderItem, Quote


@dataclass(frozen=True)
class OrderPlaced:
    details: OrderDetails


@dataclass(frozen=True)
class OrderRejected:
    details: OrderDetails
    reason: str


@dataclass(frozen=True)
class InvoiceIssued:
    invoice: Invoice
    quote: Quote
    adopted: bool = False  # rebuilt from the merchant's own earlier payment request


@dataclass(frozen=True)
class InvoiceSuperseded:
    payment_hash: str


@dataclass(frozen=True)
class InvoiceExpired:
    payment_hash: str


@dataclass(frozen=True)
class StockReserved:
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class StockReleased:
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class StockSold:
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class PaymentReceived:
    payment_hash: str
    amount_msat: int
    source: str = "wallet"  # or "merchant" (its own signed status), "lightning_address"


@dataclass(frozen=True)
class OrderPaid:
    payment_hash: str | None
    by: str = "wallet"


@dataclass(frozen=True)
class OrderShipped:
    message: str = ""
    by: str = "api"
    tracking: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class OrderCompleted:
    by: str = "api"


@dataclass(frozen=True)
class OrderCancelled:
    reason: str = ""


@dataclass(frozen=True)
class RefundNeeded:
    payment_hash: str | None
    amount_msat: int
    reason: str


@dataclass(frozen=True)
class RefundRecorded:
    """The merchant gave back the money owed (`amount_msat`), saying how in `note`."""

    amount_msat: int
    note: str = ""
    by: str = "api"


OrderEvent = (
    OrderPlaced
    | OrderRejected
    | InvoiceIssued
    | InvoiceSuperseded
    | InvoiceExpired
    | StockReserved
    | StockReleased
    | StockSold
    | PaymentReceived
    | OrderPaid
    | OrderShipped
    | OrderCompleted
    | OrderCancelled
    | RefundNeeded
    | RefundRecorded
)
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(OrderEvent)}
