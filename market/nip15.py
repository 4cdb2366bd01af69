"""NIP-15 checkout messages (type 0 order, 1 payment request, 2 status update).

Parsing is strict: every way a message can be wrong gives a `MessageError`
whose `reason` a customer can read, and which carries the order id whenever
one could be read, so that the order can be rejected with that reason.
Plain text (anything that does not look like a JSON object) is a chat message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..orders.state import OrderItem

MAX_CONTENT_BYTES = 64 * 1024
MAX_ID_LENGTH = 128
# An order id becomes a path segment (`/api/v1/order/{id}`) and a file-name-like key: letters,
# digits and `. _ : -` only, so `/`, `..`, `?`, `%` or spaces never make an order unreachable.
# UUIDs, hex digests and the ids of known clients fit.
ORDER_ID = re.compile(r"[A-Za-z0-9._:-]+")
MAX_ITEMS = 100
MAX_QUANTITY = 1_000_000
MAX_TEXT = 4096
ORDER, PAYMENT_REQUEST, STATUS_UPDATE = 0, 1, 2
REPORTED_STATUSES = frozenset(
    {"paid", "shipped", "completed", "expired", "cancelled", "refund_needed"}
)


class MessageError(ValueError):
    """A checkout message that cannot be used; `reason` says why, for the customer."""

    def __init__(self, reason: str, order_id: str | None = None, type_: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.order_id = order_id
        self.type = type_


@dataclass(frozen=True)
class PlainText:
    text: str


@dataclass(frozen=True)
class OrderMessage:
    """Type 0: a customer's order, checked for shape (not yet against the catalogue)."""

    id: str
    items: tuple[OrderItem, ...]
    shipping_id: str
    address: str | None = None
    name: str | None = None
    message: str | None = None
    contact: dict[str, str] = field(default_factory=dict)
    amount_msat: int | None = None  # the total the customer expects (Gamma's `amount`)
    address_follows: bool = False  # the address comes in a later message (Shopstr)


@dataclass(frozen=True)
class PaymentRequest:
    """Type 1: a payment request; empty `options` means the order was refused."""

    id: str
    options: tuple[tuple[str, str], ...]
    message: str | None = None

    @property
    def lightning(self) -> str | None:
        """The first `ln` payment option (a BOLT11 invoice), if any."""
        return next((link for kind, link in self.options if kind == "ln"), None)


@dataclass(frozen=True)
class StatusUpdate:
    """Type 2: the merchant says the order is paid and/or shipped. Our own messages add
    `status` (an extra field clients ignore), so a restore can tell an expired or
    cancelled order from one still awaiting payment."""

    id: str
    paid: bool
    shipped: bool
    message: str = ""
    status: str | None = None


Message = PlainText | OrderMessage | PaymentRequest | StatusUpdate


def check_size(content: str) -> None:
    """Refuse content over 64 KiB before any work is spent on it."""
    if len(content) > MAX_CONTENT_BYTES or len(content.encode()) > MAX_CONTENT_BYTES:
        raise MessageError(f"message is larger than {MAX_CONTENT_BYTES // 1024} KiB")


def parse_message(content: str) -> Message:
    """Classify and check a decrypted direct message; raise `MessageError` with a reason."""
    check_size(content)
    if not content.lstrip().startswith("{"):
        return PlainText(content)
    try:
        data = json.loads(content)
    except ValueError:
        raise MessageError("message is not valid JSON") from None
    if not isinstance(data, dict):
        raise MessageError("message is not a JSON object")
    return _parse_typed(data)


def _parse_typed(data: dict[str, Any]) -> Message:
    type_ = data.get("type")
    order_id = _order_id(data, type_)
    if type_ == ORDER:
        return _parse_order(data, order_id)
    if type_ == PAYMENT_REQUEST:
        return _parse_payment_request(data, order_id)
    if type_ == STATUS_UPDATE:
        return _parse_status(data, order_id)
    if "type" not in data:
        raise MessageError("missing field 'type'", order_id)
    raise MessageError(f"unknown message type {type_!r} (expected 0, 1 or 2)", order_id)


def _order_id(data: dict[str, Any], type_: object) -> str:
    kind = type_ if isinstance(type_, int) and not isinstance(type_, bool) else None
    value = data.get("id")
    if value is None:
        raise MessageError("missing field 'id'", None, kind)
    if not isinstance(value, str) or not value.strip():
        raise MessageError("'id' must be a non-empty string", None, kind)
    if len(value) > MAX_ID_LENGTH:
        raise MessageError(f"'id' is longer than {MAX_ID_LENGTH} characters", None, kind)
    if not ORDER_ID.fullmatch(value) or value in (".", ".."):
        raise MessageError(
            f"'id' {value[:40]!r} may only hold letters, digits and . _ : - "
            "(and not be . or .. alone)",
            None,
            kind,
        )
    return value


def _parse_order(data: dict[str, Any], order_id: str) -> OrderMessage:
    def fail(reason: str) -> MessageError:
        return MessageError(reason, order_id, ORDER)

    shipping_id = data.get("shipping_id")
    if not isinstance(shipping_id, str) or not shipping_id:
        raise fail("missing field 'shipping_id' (the shipping zone)")
    return OrderMessage(
        id=order_id,
        items=_parse_items(data.get("items"), fail),
        shipping_id=shipping_id,
        address=_optional_text(data, "address", fail),
        name=_optional_text(data, "name", fail),
        message=_optional_text(data, "message", fail),
        contact=_parse_contact(data.get("contact"), fail),
    )


def _parse_items(raw: object, fail: Any) -> tuple[OrderItem, ...]:
    """A non-empty list of {product_id, quantity}; repeated products are added up."""
    if raw is None:
        raise fail("missing field 'items'")
    if not isinstance(raw, list) or not raw:
        raise fail("'items' must be a non-empty list")
    if len(raw) > MAX_ITEMS:
        raise fail(f"too many items (at most {MAX_ITEMS})")
    totals: dict[str, int] = {}
    for index, item in enumerate(raw):
        product_id, quantity = _parse_item(item, index, fail)
        totals[product_id] = totals.get(product_id, 0) + quantity
        if totals[product_id] > MAX_QUANTITY:
            raise fail(f"quantity of {product_id} is more than {MAX_QUANTITY}")
    return tuple(OrderItem(pid, qty) for pid, qty in totals.items())


def _parse_item(item: object, index: int, fail: Any) -> tuple[str, int]:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise fail(f"{where} must be an object with product_id and quantity")
    product_id = item.get("product_id")
    if not isinstance(product_id, str) or not product_id or len(product_id) > MAX_ID_LENGTH:
        raise fail(f"{where}.product_id must be a non-empty string")
    return product_id, _parse_quantity(item.get("quantity"), f"{where}.quantity", fail)


def _parse_quantity(value: object, where: str, fail: Any) -> int:
    if value is None:
        raise fail(f"missing field {where}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"{where} must be a number, not {type(value).__name__}")
    if isinstance(value, float) or value != int(value):
        raise fail(f"{where} must be a whole number, not {value!r}")
    if value <= 0:
        raise fail(f"{where} must be at least 1, not {value}")
    if value > MAX_QUANTITY:
        raise fail(f"{where} is more than {MAX_QUANTITY}")
    return value


def _optional_text(data: dict[str, Any], name: str, fail: Any) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(f"'{name}' must be a string")
    if len(value) > MAX_TEXT:
        raise fail(f"'{name}' is longer than {MAX_TEXT} characters")
    return value or None


def _parse_contact(raw: object, fail: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail("'contact' must be an object")
    return {k: v for k, v in raw.items() if isinstance(v, str) and len(v) <= MAX_TEXT}


def _parse_payment_request(data: dict[str, Any], order_id: str) -> PaymentRequest:
    raw = data.get("payment_options", [])
    if not isinstance(raw, list):
        raise MessageError("'payment_options' must be a list", order_id, PAYMENT_REQUEST)
    options = tuple(
        (option["type"], option["link"])
        for option in raw
        if isinstance(option, dict)
        and isinstance(option.get("type"), str)
        and isinstance(option.get("link"), str)
    )
    message = data.get("message")
    return PaymentRequest(order_id, options, message if isinstance(message, str) else None)


def _parse_status(data: dict[str, Any], order_id: str) -> StatusUpdate:
    paid, shipped = data.get("paid", False), data.get("shipped", False)
    if not isinstance(paid, bool) or not isinstance(shipped, bool):
        raise MessageError("'paid' and 'shipped' must be true or false", order_id, STATUS_UPDATE)
    message, status = data.get("message"), data.get("status")
    return StatusUpdate(
        order_id,
        paid,
        shipped,
        message if isinstance(message, str) else "",
        status if status in REPORTED_STATUSES else None,
    )


# -- serialisation ---------------------------------------------------------------------------


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def payment_request(order_id: str, bolt11: str, message: str | None = None) -> str:
    """Type 1 with one Lightning option."""
    data: dict[str, Any] = {"id": order_id, "type": PAYMENT_REQUEST}
    if message:
        data["message"] = message
    data["payment_options"] = [{"type": "ln", "link": bolt11}]
    return _dump(data)


def refusal(order_id: str, reason: str) -> str:
    """Type 1 with no payment options: the order cannot be processed, and why."""
    return _dump(
        {"id": order_id, "type": PAYMENT_REQUEST, "message": reason, "payment_options": []}
    )


def status_update(
    order_id: str, paid: bool, shipped: bool, message: str, status: str | None = None
) -> str:
    """Type 2: the order's paid/shipped flags with a message for the customer."""
    data: dict[str, Any] = {"id": order_id, "type": STATUS_UPDATE, "message": message}
    data.update(paid=paid, shipped=shipped)
    if status:
        data["status"] = status
    return _dump(data)


# -- what the customer is told ---------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One message to the customer: its NIP-15 type (-1 for plain text) and content; a
    Gamma reply is a kind 16 rumor whose tags say what the content says for people."""

    type: int
    content: str
    kind: int = 14
    tags: tuple[tuple[str, ...], ...] = ()


def format_sats(msat: int) -> str:
    """Millisatoshis as a sat amount for people: `2500` -> "2.5 sat", `1000` -> "1 sat"."""
    whole, rest = divmod(msat, 1000)
    return f"{whole} sat" if rest == 0 else f"{whole}.{rest:03d}".rstrip("0") + " sat"


def replies(order_id: str, events: list[Any], paid: bool) -> list[Reply]:
    """The messages that `events` owe the customer; events adopted from the merchant's
    own earlier messages (restore, a second device) owe nothing: they were said already."""
    out: list[Reply] = []
    for event in events:
        reply = _reply_for(order_id, event, paid)
        if reply is not None:
            out.append(reply)
    return out


def _reply_for(order_id: str, event: Any, paid: bool) -> Reply | None:
    name = type(event).__name__
    builder = _REPLIES.get(name)
    return None if builder is None else builder(order_id, event, paid)


def _issued(order_id: str, event: Any, _paid: bool) -> Reply | None:
    if event.adopted:
        return None
    text = f"Order {order_id}: please pay {format_sats(event.invoice.amount_msat)}."
    return Reply(PAYMENT_REQUEST, payment_request(order_id, event.invoice.bolt11, text))


def _paid(order_id: str, event: Any, _paid: bool) -> Reply | None:
    if event.by != "wallet":
        return None
    text = f"Payment received for order {order_id}. Thank you!"
    return Reply(STATUS_UPDATE, status_update(order_id, True, False, text, "paid"))


def _shipped(order_id: str, event: Any, _paid: bool) -> Reply | None:
    if event.by == "merchant":
        return None
    text = event.message or f"Order {order_id} has been shipped."
    return Reply(STATUS_UPDATE, status_update(order_id, True, True, text, "shipped"))


def _completed(order_id: str, event: Any, _paid: bool) -> Reply | None:
    if event.by == "merchant":
        return None
    text = f"Order {order_id} is complete. Thank you!"
    return Reply(STATUS_UPDATE, status_update(order_id, True, True, text, "completed"))


def _expired(order_id: str, _event: Any, _paid: bool) -> Reply:
    text = (
        f"The invoice for order {order_id} expired and the items were released. "
        "Ask the merchant for a new invoice if you still want them."
    )
    return Reply(STATUS_UPDATE, status_update(order_id, False, False, text, "expired"))


def _cancelled(order_id: str, event: Any, _paid: bool) -> Reply:
    text = f"Order {order_id} was cancelled." + (f" {event.reason}" if event.reason else "")
    return Reply(STATUS_UPDATE, status_update(order_id, False, False, text, "cancelled"))


def _rejected(order_id: str, event: Any, _paid: bool) -> Reply:
    return Reply(PAYMENT_REQUEST, refusal(order_id, f"Order {order_id} refused: {event.reason}"))


def _refund(order_id: str, event: Any, paid: bool) -> Reply:
    text = (
        f"We received {format_sats(event.amount_msat)} for order {order_id}, but "
        f"{event.reason}. The merchant has been told and will refund you."
    )
    return Reply(STATUS_UPDATE, status_update(order_id, paid, False, text, "refund_needed"))


def refunded_text(order_id: str, event: Any) -> str:
    """What every dialect tells the customer when the merchant records a refund."""
    note = f" {event.note}" if event.note else ""
    return f"The merchant refunded {format_sats(event.amount_msat)} for order {order_id}.{note}"


def _refunded(order_id: str, event: Any, paid: bool) -> Reply:
    status = None if paid else "refunded"  # a paid order had extra money back: still paid
    text = refunded_text(order_id, event)
    return Reply(STATUS_UPDATE, status_update(order_id, paid, False, text, status))


_REPLIES: dict[str, Any] = {
    "InvoiceIssued": _issued,
    "OrderPaid": _paid,
    "OrderShipped": _shipped,
    "OrderCompleted": _completed,
    "InvoiceExpired": _expired,
    "OrderCancelled": _cancelled,
    "OrderRejected": _rejected,
    "RefundNeeded": _refund,
    "RefundRecorded": _refunded,
}
