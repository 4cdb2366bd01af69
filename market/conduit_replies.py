"""What a Conduit buyer is told: kind 16 rumors in Conduit's words, JSON content.

Shaped as Conduit's merchant app writes them (`packages/core/src/protocol/
merchant-order-publish.ts`, `apps/merchant/src/routes/orders.tsx`): tags `p`,
`type`, `order` and the type's own (`amount`, `currency`, `payment_method` on a
payment request; `status` on a status update; `tracking`, `carrier` on a
shipping update), and a JSON object as content with the payload and the order
id. Its status words: `paid` when the money arrived, `shipped`, `complete`,
`cancelled` (with the reason in `note`: a refusal, an expiry, a cancellation).
"""

from __future__ import annotations

import json
from typing import Any

from ..orders.state import OrderState
from .conduit import ORDER_KIND
from .gamma import expired_prefix, refused_prefix, sats_of
from .nip15 import PAYMENT_REQUEST, STATUS_UPDATE, Reply, format_sats, refunded_text


def order_message(
    type_: str, order_id: str, payload: dict[str, Any], *extra: tuple[str, ...]
) -> Reply:
    """A kind 16 of `type_` about `order_id`; its NIP-15 twin type keeps the books alike."""
    twin = PAYMENT_REQUEST if type_ == "payment_request" else STATUS_UPDATE
    if type_ == "status_update" and str(payload.get("note", "")).startswith(
        refused_prefix(order_id)
    ):
        twin = PAYMENT_REQUEST
    if type_ == "message":
        twin = -1
    content = json.dumps({**payload, "orderId": order_id}, ensure_ascii=False,
                         separators=(",", ":"))  # fmt: skip
    tags = (("type", type_), ("order", order_id), *extra)
    return Reply(twin, content, ORDER_KIND, tags)


def status(order_id: str, value: str, note: str) -> Reply:
    """`status_update` with `status` `value` and the words for people in `note`."""
    return order_message("status_update", order_id, {"status": value, "note": note},
                         ("status", value))  # fmt: skip


def refusal(order_id: str, text: str) -> Reply:
    return status(order_id, "cancelled", text)


def note(text: str, order_id: str | None = None) -> Reply:
    """Plain words: an order-linked `message` (or a kind 14 when no order is named)."""
    if order_id:
        return order_message("message", order_id, {"note": text})
    return Reply(-1, text)


def replies(state: OrderState, events: list[Any]) -> list[Reply]:
    """The messages `events` owe the buyer; what was adopted owes nothing."""
    out: list[Reply] = []
    for event in events:
        builder = _REPLIES.get(type(event).__name__)
        out.extend(builder(state, event) if builder is not None else [])
    return out


def _issued(state: OrderState, event: Any) -> list[Reply]:
    if event.adopted:
        return []
    order_id, invoice = state.order_id, event.invoice
    sats = sats_of(invoice.amount_msat)
    note = f"Order {order_id}: please pay {format_sats(invoice.amount_msat)}."
    payload = {"invoice": invoice.bolt11, "amount": sats, "currency": "SATS", "note": note}
    extra = (("amount", str(sats)), ("currency", "SATS"), ("payment_method", "lightning"))
    return [order_message("payment_request", order_id, payload, *extra)]


def _paid(state: OrderState, event: Any) -> list[Reply]:
    if event.by != "wallet":
        return []
    return [status(state.order_id, "paid", f"Payment received for order {state.order_id}.")]


def _shipped(state: OrderState, event: Any) -> list[Reply]:
    if event.by == "merchant":
        return []
    extra = [(name, value) for name in ("tracking", "carrier") if (value := getattr(event, name))]
    text = event.message or f"Order {state.order_id} has been shipped."
    payload: dict[str, Any] = {"note": text}
    if event.tracking:
        payload["trackingNumber"] = event.tracking
    if event.carrier:
        payload["carrier"] = event.carrier
    shipping = order_message("shipping_update", state.order_id, payload, *extra)
    return [shipping, status(state.order_id, "shipped", text)]


def _completed(state: OrderState, event: Any) -> list[Reply]:
    if event.by == "merchant":
        return []
    return [status(state.order_id, "complete", f"Order {state.order_id} is complete. Thank you!")]


def _expired(state: OrderState, _event: Any) -> list[Reply]:
    text = f"{expired_prefix(state.order_id)} and the items were released."
    return [status(state.order_id, "cancelled", text)]


def _cancelled(state: OrderState, event: Any) -> list[Reply]:
    text = f"Order {state.order_id} was cancelled." + (f" {event.reason}" if event.reason else "")
    return [status(state.order_id, "cancelled", text)]


def _rejected(state: OrderState, event: Any) -> list[Reply]:
    return [refusal(state.order_id, f"{refused_prefix(state.order_id)}{event.reason}")]


def _refund(state: OrderState, event: Any) -> list[Reply]:
    text = (
        f"We received {format_sats(event.amount_msat)} for order {state.order_id}, but "
        f"{event.reason}. The merchant has been told and will refund you."
    )
    return [note(text, state.order_id)]


_REPLIES: dict[str, Any] = {
    "InvoiceIssued": _issued,
    "OrderPaid": _paid,
    "OrderShipped": _shipped,
    "OrderCompleted": _completed,
    "InvoiceExpired": _expired,
    "OrderCancelled": _cancelled,
    "OrderRejected": _rejected,
    "RefundNeeded": _refund,
    "RefundRecorded": lambda state, event: [
        note(refunded_text(state.order_id, event), state.order_id)
    ],
}
