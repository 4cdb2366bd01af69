"""What a Shopstr buyer is told: kind 14 rumors with the tags Shopstr's order views read.

Shopstr's inbox keeps only kind 14 messages whose `subject` it knows
(`utils/nostr/fetch-service.ts`), and its orders dashboard
(`components/messages/orders-dashboard.tsx`) groups them by the `order` tag and
takes the order's state from the `status` tag: `confirmed`, `shipped`,
`completed`, `canceled` (its spelling). So a payment is confirmed as
`order-info` / `confirmed`, a shipment as `shipping-info` / `shipped` with
`tracking`, `carrier`, a refusal or an expiry as `order-info` / `canceled` with
the reason in the text. Every reply carries the buyer in `b`, as Shopstr's own do.
"""

from __future__ import annotations

from typing import Any

from ..orders.state import OrderState
from .gamma import expired_prefix, refused_prefix, sats_of
from .nip15 import PAYMENT_REQUEST, STATUS_UPDATE, Reply, format_sats, refunded_text
from .shopstr import CHAT_KIND


def message(
    subject: str, order_id: str, content: str, *extra: tuple[str, ...], twin: int = STATUS_UPDATE
) -> Reply:
    """A kind 14 about `order_id` with `subject` and the extra tags."""
    tags = (("subject", subject), ("order", order_id), *extra)
    return Reply(twin, content, CHAT_KIND, tags)


def status(order_id: str, value: str, content: str, buyer: str = "", type_: str = "3") -> Reply:
    """`order-info` with `status` `value` (Shopstr's words)."""
    extra = [("type", type_), ("status", value), *([("b", buyer)] if buyer else [])]
    twin = PAYMENT_REQUEST if content.startswith(refused_prefix(order_id)) else STATUS_UPDATE
    return message("order-info", order_id, content, *extra, twin=twin)


def refusal(order_id: str, text: str) -> Reply:
    """The order cannot be processed, and why."""
    return status(order_id, "canceled", text)


def note(text: str, order_id: str | None = None) -> Reply:
    """Plain words for the buyer: about an order (`order-info`), or a chat message."""
    if order_id:
        return message("order-info", order_id, text, twin=-1)
    return Reply(-1, text, CHAT_KIND, (("subject", "listing-inquiry"),))


def replies(state: OrderState, events: list[Any]) -> list[Reply]:
    """The messages `events` owe the buyer; what was adopted from the merchant's own earlier
    messages owes nothing."""
    buyer = state.details.customer if state.details else ""
    out: list[Reply] = []
    for event in events:
        builder = _REPLIES.get(type(event).__name__)
        reply = None if builder is None else builder(state, event, buyer)
        if reply is not None:
            out.append(reply)
    return out


def payment_request(state: OrderState, event: Any, buyer: str) -> Reply | None:
    """`order-payment` with our invoice: how to pay when the buyer's own payment did not do."""
    if event.adopted:
        return None
    order_id, invoice = state.order_id, event.invoice
    text = f"Order {order_id}: please pay {format_sats(invoice.amount_msat)}: {invoice.bolt11}"
    return message(
        "order-payment", order_id, text, ("type", "2"), ("b", buyer),
        ("amount", str(sats_of(invoice.amount_msat))), ("payment", "lightning", invoice.bolt11),
        twin=PAYMENT_REQUEST,
    )  # fmt: skip


def _paid(state: OrderState, event: Any, buyer: str) -> Reply | None:
    if event.by != "wallet":
        return None
    return status(state.order_id, "confirmed", f"Payment received for order {state.order_id}.",
                  buyer)  # fmt: skip


def _shipped(state: OrderState, event: Any, buyer: str) -> Reply | None:
    if event.by == "merchant":
        return None
    extra = [(name, value) for name in ("tracking", "carrier") if (value := getattr(event, name))]
    text = event.message or f"Order {state.order_id} has been shipped."
    return message("shipping-info", state.order_id, text, ("type", "4"), ("status", "shipped"),
                   ("b", buyer), *extra)  # fmt: skip


def _completed(state: OrderState, event: Any, buyer: str) -> Reply | None:
    if event.by == "merchant":
        return None
    text = f"Order {state.order_id} is complete. Thank you!"
    return status(state.order_id, "completed", text, buyer)


def _expired(state: OrderState, _event: Any, buyer: str) -> Reply:
    text = f"{expired_prefix(state.order_id)} and the items were released."
    return status(state.order_id, "canceled", text, buyer)


def _cancelled(state: OrderState, event: Any, buyer: str) -> Reply:
    text = f"Order {state.order_id} was cancelled." + (f" {event.reason}" if event.reason else "")
    return status(state.order_id, "canceled", text, buyer)


def _rejected(state: OrderState, event: Any, buyer: str) -> Reply:
    return status(state.order_id, "canceled", f"{refused_prefix(state.order_id)}{event.reason}",
                  buyer)  # fmt: skip


def _refund(state: OrderState, event: Any, _buyer: str) -> Reply:
    text = (
        f"We received {format_sats(event.amount_msat)} for order {state.order_id}, but "
        f"{event.reason}. The merchant has been told and will refund you."
    )
    return note(text, state.order_id)


_REPLIES: dict[str, Any] = {
    "InvoiceIssued": payment_request,
    "OrderPaid": _paid,
    "OrderShipped": _shipped,
    "OrderCompleted": _completed,
    "InvoiceExpired": _expired,
    "OrderCancelled": _cancelled,
    "OrderRejected": _rejected,
    "RefundNeeded": _refund,
    "RefundRecorded": lambda state, event, _buyer: note(
        refunded_text(state.order_id, event), state.order_id
    ),
}
