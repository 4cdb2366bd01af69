"""Conduit's order messages: kind 16 rumors with word types and JSON content.

Conduit (Conduit-BTC/conduit-mono: `docs/specs/protocol.md`,
`packages/core/src/protocol/messaging.ts` and `orders.ts`) shares kind 16 and
NIP-17 gift wraps with the Gamma market spec but not its words: `type` is
`order`, `payment_request`, `payment_proof`, `status_update`,
`shipping_update`, `receipt` or `message`, every message has `p`, `type` and
`order` tags, and the content is a JSON object (the order's shipping address,
contact and note; a proof's invoice, preimage and payment hash). It ignores a
numeric-typed kind 16 (Gamma's), and a kind 16 with neither `type` nor `order`
is a NIP-18 repost, not an order message. Parsing gives the same messages as
the other dialects: an `OrderMessage`, a `Receipt` for a payment proof (a claim,
checked like a Gamma receipt), a `BuyerCancel`, a status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .gamma import (
    SHIPPING_OPTION_KIND,
    BuyerCancel,
    Receipt,
    Tags,
    _reference,
    check_size,
    expired_prefix,
    first,
    refused_prefix,
)
from .gamma import _items as gamma_items
from .gamma import _order_id as gamma_order_id
from .nip15 import (
    MAX_TEXT,
    ORDER,
    STATUS_UPDATE,
    MessageError,
    OrderMessage,
    PaymentRequest,
    PlainText,
    StatusUpdate,
)

ORDER_KIND = 16
TYPES = frozenset(
    {"order", "payment_request", "payment_proof", "status_update", "shipping_update", "receipt",
     "message"}
)  # fmt: skip
PAID_WORDS = frozenset({"paid", "accepted", "processing"})
SHIPPED_WORDS = frozenset({"shipped", "delivered"})


@dataclass(frozen=True)
class Ignored:
    """A kind 16 that is no order message (a NIP-18 repost): kept, never answered."""

    reason: str


Message = OrderMessage | PaymentRequest | StatusUpdate | PlainText | Receipt | BuyerCancel


def is_conduit(kind: int, tags: Tags) -> bool:
    """A kind 16 in Conduit's words (or with no type at all: a repost, see `parse_rumor`)."""
    if kind != ORDER_KIND:
        return False
    type_ = first(tags, "type")
    return type_ in TYPES or (type_ is None and first(tags, "order") is None)


def parse_rumor(tags: Tags, content: str, merchant: str, outgoing: bool) -> Message | Ignored:
    """Read a Conduit kind 16 between `merchant` and a buyer; `MessageError` if bad."""
    check_size(content)
    type_ = first(tags, "type")
    if type_ is None:
        return Ignored("a kind 16 with no type and no order: a repost, not an order message")
    order_id = gamma_order_id(tags, ORDER if type_ == "order" else None)
    data = _json(content, order_id, type_)
    if outgoing:
        return _ours(type_, tags, data, order_id)
    if type_ == "order":
        return _order(tags, data, order_id, merchant)
    if type_ == "payment_proof":
        return _proof(data, order_id)
    if type_ == "message":
        return PlainText(_text(data.get("note")) or "")
    status = _text(first(tags, "status") or data.get("status"))
    if type_ == "status_update" and status == "cancelled":
        return BuyerCancel(order_id, _text(data.get("note")) or "")
    return StatusUpdate(order_id, False, False, _text(data.get("note")) or "", status)


def _json(content: str, order_id: str, type_: str) -> dict[str, Any]:
    try:
        data = json.loads(content) if content.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        kind = ORDER if type_ == "order" else None
        raise MessageError("the content of a Conduit order message must be a JSON object",
                           order_id if kind == ORDER else None, kind)  # fmt: skip
    return data


def _text(value: object) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value.strip() else None


def _order(tags: Tags, data: dict[str, Any], order_id: str, merchant: str) -> OrderMessage:
    def fail(reason: str) -> MessageError:
        return MessageError(reason, order_id, ORDER)

    amount = first(tags, "amount")
    if amount is None or not amount.isdigit() or int(amount) <= 0:
        raise fail("tag 'amount' must be the order's total in whole satoshis")
    address = data.get("shippingAddress")
    address = address if isinstance(address, dict) else {}
    return OrderMessage(
        id=order_id,
        items=gamma_items(tags, merchant, fail),
        shipping_id=_shipping(tags, merchant, fail),
        address=_address(address),
        name=_text(address.get("name")),
        message=_text(data.get("note")),
        contact=_contact(data.get("guestContact")),
        amount_msat=int(amount) * 1000,
    )


def _shipping(tags: Tags, merchant: str, fail: Any) -> str:
    """The one shipping option the items name (Conduit tags one per item), or "" for none."""
    named = {str(tag[1]) for tag in tags if len(tag) > 1 and tag[0] == "shipping"}
    if len(named) > 1:
        raise fail("the items name different shipping options; order them separately")
    if not named:
        return ""
    return _reference(named.pop(), SHIPPING_OPTION_KIND, merchant, "shipping option", fail)


def _address(raw: dict[str, Any]) -> str | None:
    """Conduit's shippingAddress as one line: street, city, state postal code, country."""
    region = " ".join(p for p in (_text(raw.get("state")), _text(raw.get("postalCode"))) if p)
    parts = [_text(raw.get("street")), _text(raw.get("city")), region or None,
             _text(raw.get("country"))]  # fmt: skip
    line = ", ".join(part for part in parts if part)
    return line[:MAX_TEXT] or None


def _contact(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {k: v[:MAX_TEXT] for k in ("email", "phone") if isinstance(v := raw.get(k), str) and v}


def _proof(data: dict[str, Any], order_id: str) -> Receipt:
    """Conduit writes the invoice, preimage and hash at the top
    (`buildLightningPaymentProofMessage`); the protocol text nests them under `proof`:
    either is read."""
    raw = data.get("proof")
    nested: dict[str, Any] = raw if isinstance(raw, dict) else {}
    invoice = _text(data.get("invoice")) or ""
    preimage = _text(data.get("preimage")) or _text(nested.get("preimage")) or ""
    payment_hash = _text(data.get("paymentHash")) or _text(nested.get("payment_hash")) or ""
    if not invoice and not payment_hash:
        raise MessageError("a payment proof must name the invoice or its payment hash", order_id)
    amount = data.get("amount")
    return Receipt(order_id, invoice.strip(), preimage, str(amount) if amount else None,
                   payment_hash.lower())  # fmt: skip


# -- our own messages, read back -------------------------------------------------------------


def _ours(type_: str, tags: Tags, data: dict[str, Any], order_id: str) -> Message:
    note = _text(data.get("note")) or ""
    if type_ == "payment_request":
        invoice = _text(data.get("invoice"))
        return PaymentRequest(order_id, (("ln", invoice),) if invoice else (), note)
    if type_ == "shipping_update":
        return StatusUpdate(order_id, True, True, note, "shipped")
    status = first(tags, "status") or ""
    if status in PAID_WORDS:
        return StatusUpdate(order_id, True, False, note, "paid")
    if status in SHIPPED_WORDS:
        return StatusUpdate(order_id, True, True, note, "shipped")
    if status == "complete":
        return StatusUpdate(order_id, True, True, note, "completed")
    if status == "cancelled":
        return _cancelled(order_id, note)
    return PlainText(note)


def _cancelled(order_id: str, note: str) -> PaymentRequest | StatusUpdate:
    if note.startswith(refused_prefix(order_id)):
        return PaymentRequest(order_id, (), note)
    if note.startswith(expired_prefix(order_id)):
        return StatusUpdate(order_id, False, False, note, "expired")
    return StatusUpdate(order_id, False, False, note, "cancelled")


__all__ = ["STATUS_UPDATE", "Ignored", "is_conduit", "parse_rumor"]
