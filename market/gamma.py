"""Gamma market spec orders (kind 16 order messages, kind 17 payment receipts).

The newer market clients (Plebeian Market, Conduit, ...) speak the Gamma / Open
Markets spec: a kind 16 rumor with a `type` tag (1 order, 2 payment request,
3 status, 4 shipping) or a kind 17 receipt, in a NIP-17 gift wrap. Everything
structured is in tags; the content is for people. Parsing gives the same
messages as NIP-15's (`OrderMessage`, `PaymentRequest`, `StatusUpdate`), so one
service path places, pays and ships both; what only this dialect has (a
receipt, a buyer cancelling) gets its own value. Like NIP-15's, every way a
message can be wrong is a `MessageError` whose reason a customer can read,
carrying the order id when one could be read.

Listings are addressed as `30402:<merchant pubkey>:<d>` and shipping options as
`30406:<merchant pubkey>:<d>`; we publish both with our own ids as `d`, so an
item's `d` is the product id and a shipping option's `d` the zone id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..orders.pricing import OrderInvalid
from ..orders.state import OrderItem, Quote
from .nip15 import (
    MAX_ID_LENGTH,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_TEXT,
    ORDER,
    ORDER_ID,
    STATUS_UPDATE,
    MessageError,
    OrderMessage,
    PaymentRequest,
    StatusUpdate,
    check_size,
)

ORDER_KIND, RECEIPT_KIND = 16, 17
KINDS = frozenset((ORDER_KIND, RECEIPT_KIND))
LISTING_KIND, COLLECTION_KIND, SHIPPING_OPTION_KIND = 30402, 30405, 30406
TYPE_ORDER, TYPE_PAYMENT, TYPE_STATUS, TYPE_SHIPPING = "1", "2", "3", "4"
_WHOLE = re.compile(r"[0-9]{1,15}")

Tags = Sequence[Sequence[str]]
MessageFail = Callable[[str], MessageError]  # builds the error for one order


@dataclass(frozen=True)
class Receipt:
    """Kind 17: the buyer says an invoice paid the order. A claim, never proof on its own."""

    id: str
    bolt11: str
    proof: str = ""
    claimed_amount: str | None = None
    payment_hash: str = ""  # when the claim names the hash rather than the invoice (Conduit)


@dataclass(frozen=True)
class BuyerCancel:
    """Type 3 `cancelled` from the buyer: cancel the order if it is not paid yet."""

    id: str
    reason: str = ""


@dataclass(frozen=True)
class OrderMarker:
    """A public, signed type 1 (Plebeian Market publishes one beside the gift-wrapped order,
    without the address): kept as a marker; the gift-wrapped details place the order."""

    id: str


Extra = Receipt | BuyerCancel | OrderMarker  # what only this dialect says
Message = OrderMessage | PaymentRequest | StatusUpdate | Extra


def sats_of(msat: int) -> int:
    """Whole satoshis for an `amount` tag, rounded up: never ask for less than is owed."""
    return -(-msat // 1000)


def check_amount(msg: OrderMessage, quote: Quote) -> None:
    """The total the customer expects (Gamma's `amount`, whole sats) must be the merchant's
    price, to the satoshi (either rounding of a fraction of one); `OrderInvalid` if not."""
    if msg.amount_msat is None or abs(msg.amount_msat - quote.total_msat) < 1000:
        return
    raise OrderInvalid(
        f"the order's amount ({msg.amount_msat // 1000} sat) does not match the merchant's "
        f"price ({sats_of(quote.total_msat)} sat)"
    )


def first(tags: Tags, name: str) -> str | None:
    """The value of the first tag called `name`, if any."""
    return next((str(tag[1]) for tag in tags if len(tag) > 1 and tag[0] == name), None)


def parse_rumor(
    kind: int, tags: Tags, content: str, merchant: str, outgoing: bool, public: bool = False
) -> Message:
    """Read a kind 16 or 17 rumor between `merchant` (hex) and a buyer; `MessageError` if bad.

    `outgoing` is True for the merchant's own messages (seen again on a relay or in a
    restore); they are read as the state they announce. A `public` (signed, not wrapped)
    order is only a marker: it is never checked, so it cannot refuse the real one."""
    check_size(content)
    if public and kind == ORDER_KIND and _type(tags) == TYPE_ORDER:
        return OrderMarker(first(tags, "order") or "")
    order_id = _order_id(tags, ORDER if _type(tags) == TYPE_ORDER else None)
    if kind == RECEIPT_KIND:
        return _receipt(tags, order_id)
    type_ = _type(tags)
    if type_ == TYPE_ORDER:
        return _order(tags, content, order_id, merchant)
    if type_ == TYPE_PAYMENT:
        return _payment_request(tags, content, order_id)
    if type_ == TYPE_STATUS:
        return _status(tags, content, order_id, outgoing)
    if type_ == TYPE_SHIPPING:
        return _shipping(tags, content, order_id)
    raise MessageError(f"unknown order message type {type_!r} (expected 1, 2, 3 or 4)", order_id)


def _type(tags: Tags) -> str | None:
    return first(tags, "type")


def _order_id(tags: Tags, type_: int | None) -> str:
    value = first(tags, "order")
    if not value or not value.strip():
        raise MessageError("missing tag 'order' (the order id)", None, type_)
    if len(value) > MAX_ID_LENGTH:
        raise MessageError(f"order id is longer than {MAX_ID_LENGTH} characters", None, type_)
    if not ORDER_ID.fullmatch(value) or value in (".", ".."):
        raise MessageError(
            f"order id {value[:40]!r} may only hold letters, digits and . _ : -", None, type_
        )
    return value


# -- type 1: the order -----------------------------------------------------------------------


def _order(tags: Tags, content: str, order_id: str, merchant: str) -> OrderMessage:
    def fail(reason: str) -> MessageError:
        return MessageError(reason, order_id, ORDER)

    amount = first(tags, "amount")
    if amount is None or not _WHOLE.fullmatch(amount) or int(amount) <= 0:
        raise fail("tag 'amount' must be the order's total in whole satoshis")
    shipping = first(tags, "shipping")
    if shipping is None:
        raise fail("missing tag 'shipping' (the shipping option, 30406:<pubkey>:<d>)")
    contact = {name: value for name in ("email", "phone") if (value := first(tags, name))}
    return OrderMessage(
        id=order_id,
        items=_items(tags, merchant, fail),
        shipping_id=_reference(shipping, SHIPPING_OPTION_KIND, merchant, "shipping option", fail),
        address=_text(tags, "address", fail),
        name=_text(tags, "name", fail),
        message=content[:MAX_TEXT] or None,
        contact={k: v[:MAX_TEXT] for k, v in contact.items()},
        amount_msat=int(amount) * 1000,
    )


def _items(tags: Tags, merchant: str, fail: MessageFail) -> tuple[OrderItem, ...]:
    """Every `item` tag; a listing named twice is added up."""
    raw = [tag for tag in tags if tag and tag[0] == "item"]
    if not raw:
        raise fail("missing tag 'item' (30402:<pubkey>:<d> and a quantity)")
    if len(raw) > MAX_ITEMS:
        raise fail(f"too many items (at most {MAX_ITEMS})")
    totals: dict[str, int] = {}
    for tag in raw:
        if len(tag) < 3:
            raise fail("an 'item' tag needs a listing and a quantity")
        product_id = _reference(tag[1], LISTING_KIND, merchant, "listing", fail)
        totals[product_id] = totals.get(product_id, 0) + _quantity(tag[2], tag[1], fail)
        if totals[product_id] > MAX_QUANTITY:
            raise fail(f"quantity of {tag[1]} is more than {MAX_QUANTITY}")
    return tuple(OrderItem(product_id, quantity) for product_id, quantity in totals.items())


def _quantity(text: str, listing: str, fail: MessageFail) -> int:
    if not _WHOLE.fullmatch(text) or int(text) <= 0:
        raise fail(f"quantity of {listing} must be a whole number of at least 1, not {text!r}")
    if int(text) > MAX_QUANTITY:
        raise fail(f"quantity of {listing} is more than {MAX_QUANTITY}")
    return int(text)


def _reference(value: str, kind: int, merchant: str, what: str, fail: MessageFail) -> str:
    """The `d` of `<kind>:<merchant>:<d>`; anything else is not one of the merchant's."""
    found_kind, _, rest = value.partition(":")
    pubkey, _, identifier = rest.partition(":")
    if found_kind != str(kind) or pubkey.lower() != merchant or not identifier:
        raise fail(f"unknown {what} {value[:200]} (not one of this merchant's)")
    if len(identifier) > MAX_ID_LENGTH:
        raise fail(f"unknown {what} {value[:200]}")
    return identifier


def _text(tags: Tags, name: str, fail: MessageFail) -> str | None:
    value = first(tags, name)
    if value is not None and len(value) > MAX_TEXT:
        raise fail(f"tag '{name}' is longer than {MAX_TEXT} characters")
    return value or None


# -- types 2, 3 and 4: what the merchant announces --------------------------------------------


def _payment_request(tags: Tags, content: str, order_id: str) -> PaymentRequest:
    options = tuple(
        ("ln", str(tag[2])) for tag in tags if len(tag) > 2 and tag[:2] == ["payment", "lightning"]
    )
    return PaymentRequest(order_id, options, content)


def _status(tags: Tags, content: str, order_id: str, outgoing: bool) -> Message:
    status = first(tags, "status")
    if status == "cancelled":
        return _cancelled(order_id, content) if outgoing else BuyerCancel(order_id, content)
    if status == "confirmed":
        return StatusUpdate(order_id, True, False, content, "paid")
    if status == "completed":
        return StatusUpdate(order_id, True, True, content, "completed")
    if status in ("pending", "processing"):
        return StatusUpdate(order_id, False, False, content, None)
    raise MessageError(f"unknown order status {status!r}", order_id, STATUS_UPDATE)


def _cancelled(order_id: str, content: str) -> PaymentRequest | StatusUpdate:
    """Our own `cancelled` says which end the order reached in the words we wrote it with
    (`replies`): a refusal before any invoice, an expiry, or a cancellation."""
    if content.startswith(refused_prefix(order_id)):
        return PaymentRequest(order_id, (), content)
    if content.startswith(expired_prefix(order_id)):
        return StatusUpdate(order_id, False, False, content, "expired")
    return StatusUpdate(order_id, False, False, content, "cancelled")


def _shipping(tags: Tags, content: str, order_id: str) -> StatusUpdate:
    status = first(tags, "status")
    if status in ("shipped", "delivered"):
        return StatusUpdate(order_id, True, True, content, "shipped")
    if status in ("processing", "exception"):
        return StatusUpdate(order_id, False, False, content, None)
    raise MessageError(f"unknown shipping status {status!r}", order_id, STATUS_UPDATE)


def refused_prefix(order_id: str) -> str:
    """How a refusal's content starts (`replies` writes it, `_cancelled` reads it back)."""
    return f"Order {order_id} refused: "


def expired_prefix(order_id: str) -> str:
    """How an expiry's content starts."""
    return f"The invoice for order {order_id} expired"


# -- kind 17: the receipt --------------------------------------------------------------------


def _receipt(tags: Tags, order_id: str) -> Receipt:
    payments = [tag for tag in tags if len(tag) > 2 and tag[0] == "payment"]
    lightning = next((tag for tag in payments if tag[1] == "lightning"), None)
    if lightning is None:
        media = ", ".join(sorted({str(tag[1]) for tag in payments})) or "none"
        raise MessageError(
            f"a receipt must name a lightning invoice (payment media given: {media})",
            order_id,
        )
    proof = str(lightning[3]) if len(lightning) > 3 else ""
    return Receipt(order_id, str(lightning[2]).strip(), proof, first(tags, "amount"))
