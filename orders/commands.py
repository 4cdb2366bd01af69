"""The imperative commands an order can be given: what someone asks to happen.

The service layer builds one from a customer's message, a payment, the merchant's
own message or an API call, and hands it to `orders.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import Invoice, OrderDetails, Quote


@dataclass(frozen=True)
class PlaceOrder:
    """A valid, priced order with its invoice; `out_of_stock` set when stock ran out."""

    details: OrderDetails
    quote: Quote
    invoice: Invoice
    adopted: bool = False
    out_of_stock: str | None = None


@dataclass(frozen=True)
class RejectOrder:
    details: OrderDetails
    reason: str


@dataclass(frozen=True)
class ReceivePayment:
    payment_hash: str
    amount_msat: int
    out_of_stock: str | None = None


@dataclass(frozen=True)
class ExpireInvoice:
    payment_hash: str


@dataclass(frozen=True)
class CancelOrder:
    reason: str = ""


@dataclass(frozen=True)
class ShipOrder:
    message: str = ""
    by: str = "api"
    tracking: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class ReceiveAddressPayment:
    """Money paid to the merchant's lightning address, which the customer's receipt claims
    for this order and the wallet says arrived; the invoice is not one of the order's."""

    payment_hash: str
    amount_msat: int
    out_of_stock: str | None = None


@dataclass(frozen=True)
class ReceiveEcash:
    """Ecash (Cashu) for this order, already redeemed at its mint: the swapped proofs are
    the merchant's. `payment_id` names the redemption (`cashu:` and its proofs' digest)."""

    payment_id: str
    amount_msat: int
    out_of_stock: str | None = None


@dataclass(frozen=True)
class CompleteOrder:
    by: str = "api"


@dataclass(frozen=True)
class ReissueInvoice:
    invoice: Invoice
    quote: Quote
    out_of_stock: str | None = None


@dataclass(frozen=True)
class RecordMerchantStatus:
    """The merchant's own signed type 2 message (seen on a relay) says paid/shipped, and
    (in our own messages) which status the order reached: expired, cancelled, completed."""

    paid: bool
    shipped: bool
    message: str = ""
    status: str | None = None
    out_of_stock: str | None = None


@dataclass(frozen=True)
class AdoptInvoice:
    """The merchant's own signed payment request (seen on a relay) for a known order."""

    invoice: Invoice
    quote: Quote
    out_of_stock: str | None = None


@dataclass(frozen=True)
class RecordRefund:
    """The merchant refunded the money an order could not take (`refund_needed`)."""

    note: str = ""
    by: str = "api"


OrderCommand = (
    PlaceOrder
    | RejectOrder
    | ReceivePayment
    | ReceiveAddressPayment
    | ReceiveEcash
    | ExpireInvoice
    | CancelOrder
    | ShipOrder
    | CompleteOrder
    | ReissueInvoice
    | RecordMerchantStatus
    | AdoptInvoice
    | RecordRefund
)
