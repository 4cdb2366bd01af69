"""What a Gamma-dialect customer is told: kind 16 rumors whose tags carry the facts.

The tags are exactly the spec's for each type (strict readers, such as Plebeian
Market's schemas, refuse unknown ones): type 2 `payment` / `amount` (sats) /
`expiration`, type 3 `status` (`confirmed`, `completed`, `cancelled`), type 4
`status` `shipped` with `tracking` and `carrier` when the merchant gave them.
The content says the same for people, and every `cancelled` says why. A refund
note is a kind 14 chat message about the order (the spec has no status for it).

Our own messages come back to us in a restore; `gamma.parse_rumor` reads them as
the state they announce, the refusal and expiry by the words written here.
"""

from __future__ import annotations

from typing import Any

from ..orders.state import OrderState
from .gamma import (
    ORDER_KIND,
    TYPE_PAYMENT,
    TYPE_SHIPPING,
    TYPE_STATUS,
    expired_prefix,
    refused_prefix,
    sats_of,
)
from .nip15 import PAYMENT_REQUEST, STATUS_UPDATE, Reply, format_sats, refunded_text

CHAT_KIND = 14


def order_message(
    type_: str, subject: str, order_id: str, content: str, *extra: tuple[str, ...]
) -> Reply:
    """A kind 16 of `type_` about `order_id`; its NIP-15 twin type keeps the books alike."""
    twin = PAYMENT_REQUEST if type_ == TYPE_PAYMENT else STATUS_UPDATE
    tags = (("subject", subject), ("type", type_), ("order", order_id), *extra)
    return Reply(twin, content, ORDER_KIND, tags)


def status(order_id: str, value: str, content: str) -> Reply:
    """Type 3 with `status` `value`."""
    return order_message(TYPE_STATUS, "order-info", order_id, content, ("status", value))


def refusal(order_id: str, text: str) -> Reply:
    """The order cannot be processed, and why: type 3 `cancelled`."""
    return status(order_id, "cancelled", text)


def note(text: str, order_id: str | None = None) -> Reply:
    """Plain words about an order (or none): kind 14, its `subject` the order id."""
    tags = (("subject", order_id),) if order_id else ()
    return Reply(-1, text, CHAT_KIND, tags)


def replies(state: OrderState, events: list[Any]) -> list[Reply]:
    """The messages `events` owe the customer; what was adopted from the merchant's own
    earlier messages (restore, a second device) owes nothing: it was said already."""
    out: list[Reply] = []
    for event in events:
        builder = _REPLIES.get(type(event).__name__)
        reply = None if builder is None else builder(state, event)
        if reply is not None:
            out.append(reply)
    return out


def _issued(state: OrderState, event: Any) -> Reply | None:
    if event.adopted:
        return None
    order_id, invoice = state.order_id, event.invoice
    text = f"Order {order_id}: please pay {format_sats(invoice.amount_msat)}."
    return order_message(
        TYPE_PAYMENT, "order-payment", order_id, text,
        ("amount", str(sats_of(invoice.amount_msat))),
        ("payment", "lightning", invoice.bolt11),
        ("expiration", str(invoice.expires_at)),
    )  # fmt: skip


def _paid(state: OrderState, event: Any) -> Reply | None:
    if event.by != "wallet":
        return None
    return status(state.order_id, "confirmed", f"Payment received for order {state.order_id}.")


def _shipped(state: OrderState, event: Any) -> Reply | None:
    if event.by == "merchant":
        return None
    extra = [(name, value) for name in ("tracking", "carrier") if (value := getattr(event, name))]
    text = event.message or f"Order {state.order_id} has been shipped."
    return order_message(
        TYPE_SHIPPING, "shipping-info", state.order_id, text, ("status", "shipped"), *extra
    )


def _completed(state: OrderState, event: Any) -> Reply | None:
    if event.by == "merchant":
        return None
    return status(state.order_id, "completed", f"Order {state.order_id} is complete. Thank you!")


def _expired(state: OrderState, _event: Any) -> Reply:
    text = (
        f"{expired_prefix(state.order_id)} and the items were released. "
        "Ask the merchant for a new invoice if you still want them."
    )
    return status(state.order_id, "cancelled", text)


def _cancelled(state: OrderState, event: Any) -> Reply:
    text = f"Order {state.order_id} was cancelled." + (f" {event.reason}" if event.reason else "")
    return status(state.order_id, "cancelled", text)


def _rejected(state: OrderState, event: Any) -> Reply:
    return refusal(state.order_id, f"{refused_prefix(state.order_id)}{event.reason}")


def _refund(state: OrderState, event: Any) -> Reply:
    text = (
        f"We received {format_sats(event.amount_msat)} for order {state.order_id}, but "
        f"{event.reason}. The merchant has been told and will refund you."
    )
    return note(text, state.order_id)


_REPLIES: dict[str, Any] = {
    "InvoiceIssued": _issued,
    "OrderPaid": _paid,
    "OrderShipped": _shipped,
    "OrderCompleted": _completed,
    "InvoiceExpired": _expired,
    "OrderCancelled": _cancelled,
    "OrderRejected": _rejected,
    "RefundNeeded": _refund,
    "RefundRecorded": lambda state, event: note(
        refunded_text(state.order_id, event), state.order_id
    ),
}
