"""Shopstr's checkout messages: kind 14 rumors whose `subject` tag says what they are.

Shopstr (shopstr-eng/shopstr, `utils/nostr/gift-wrap.ts` builds them,
`components/product-invoice-card.tsx` sends them) gift-wraps a kind 14 rumor
signed by a random per-checkout key; the real buyer is named in a `["b", ...]`
tag, and replies go there. The buyer pays first: the `order-payment` message
(`type` 2) carries the order id, the `item` (`30402:<merchant>:<d>` and a
quantity), the `amount` the seller gets (Shopstr's 2.1% donation taken off
unless the seller's kind 0 says `shopstr_donation: 0`), and the payment: a Cashu
token (`["payment", "ecash", <token>]`, also in the text) or, when the seller
prefers Lightning, `["payment", "lightning", <lud16>]` after Shopstr melted the
ecash to the seller's lightning address. The shipping address follows in an
`order-info` message (`type` 1). Shopstr names no shipping option: the order
is placed on its stall's cheapest zone, and a physical zone's address may follow.

Our own replies (`shopstr_replies`) come back to us in a restore; they are read
as the state they announce, as Gamma's are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .gamma import Tags, check_size, expired_prefix, first, refused_prefix
from .gamma import _items as gamma_items
from .gamma import _order_id as gamma_order_id
from .nip15 import (
    MAX_TEXT,
    ORDER,
    MessageError,
    OrderMessage,
    PaymentRequest,
    PlainText,
    StatusUpdate,
)

CHAT_KIND = 14
ORDER_SUBJECTS = frozenset(
    {"order-payment", "order-info", "payment-change", "order-receipt", "shipping-info",
     "zapsnag-order", "order-completed", "payment-confirmation", "address-change"}
)  # fmt: skip
# The subjects Shopstr's inbox reads (utils/nostr/fetch-service.ts drops every other one).
READ_SUBJECTS = ("order-payment", "order-info", "shipping-info", "listing-inquiry")
TOKEN = re.compile(r"cashu[AB][A-Za-z0-9_\-+/=]{20,}")
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Payment:
    """What the buyer says paid: `ecash` (a Cashu token) or `lightning` (to `reference`,
    the merchant's lightning address). A claim: checked before anything counts."""

    method: str
    reference: str
    proof: str = ""


@dataclass(frozen=True)
class ShopstrCheckout(OrderMessage):
    """`order-payment`: an order that arrives paid (or claiming to be). It is an order
    message, so a restore places it like any other; live, it is paid right after."""

    buyer: str = ""
    payment: Payment | None = None
    paid_msat: int = 0  # the `amount` tag: what the seller was sent
    donation_msat: int = 0  # Shopstr's donation as tagged (counted up to 2.1%: `required_msat`)


@dataclass(frozen=True)
class ShopstrDetails:
    """`order-info` (or an address change): delivery details for an order placed before."""

    id: str
    buyer: str
    address: str | None
    contact: str | None
    text: str


Message = ShopstrCheckout | ShopstrDetails | PaymentRequest | StatusUpdate | PlainText


def is_shopstr(kind: int, tags: Tags) -> bool:
    """A kind 14 about an order, as Shopstr writes one (a `subject` it knows, an `order`)."""
    return (
        kind == CHAT_KIND
        and first(tags, "subject") in ORDER_SUBJECTS
        and bool(first(tags, "order"))
    )


def buyer_of(tags: Tags) -> str | None:
    """The real buyer (`b` tag, hex), when the message names one."""
    value = (first(tags, "b") or "").lower()
    return value if HEX64.fullmatch(value) else None


def redact(content: str) -> str:
    """The text without any Cashu token in it (a token is money: it is not kept in clear)."""
    return TOKEN.sub("[cashu token]", content)


def parse_rumor(tags: Tags, content: str, merchant: str, outgoing: bool) -> Message:
    """Read a Shopstr kind 14 between `merchant` and a buyer; `MessageError` if bad."""
    check_size(content)
    subject = first(tags, "subject")
    if outgoing:
        return _ours(tags, content, subject)
    if subject == "order-payment":
        return _checkout(tags, content, merchant)
    order_id = gamma_order_id(tags, None)
    if subject in ("order-info", "address-change"):
        address, contact = first(tags, "address"), first(tags, "contact")
        return ShopstrDetails(order_id, buyer_of(tags) or "", _short(address), _short(contact),
                              redact(content)[:MAX_TEXT])  # fmt: skip
    return PlainText(redact(content))


def _short(value: str | None) -> str | None:
    return value[:MAX_TEXT] if value else None


def _checkout(tags: Tags, content: str, merchant: str) -> ShopstrCheckout:
    order_id = gamma_order_id(tags, ORDER)

    def fail(reason: str) -> MessageError:
        return MessageError(reason, order_id, ORDER)

    paid = _sats(first(tags, "amount"), fail, "amount")
    payment = _payment(tags, content, fail)
    donation = next((tag for tag in tags if len(tag) > 1 and tag[0] == "donation_amount"), None)
    contact = first(tags, "contact")
    return ShopstrCheckout(
        id=order_id,
        items=gamma_items(tags, merchant, fail),
        shipping_id="",
        address=_short(first(tags, "address") or first(tags, "pickup")),
        message=None,
        contact={"shopstr": contact[:MAX_TEXT]} if contact else {},
        address_follows=True,
        buyer=buyer_of(tags) or "",
        payment=payment,
        paid_msat=paid * 1000,
        donation_msat=_donation(donation) * 1000,
    )


def _sats(raw: str | None, fail: object, name: str) -> int:
    text = (raw or "").strip()
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0 or value != int(value) or value > 10**12:
        raise fail(f"tag '{name}' must be the amount paid in whole satoshis")  # type: ignore[operator]
    return int(value)


def _payment(tags: Tags, content: str, fail: object) -> Payment:
    found = next((tag for tag in tags if len(tag) > 2 and tag[0] == "payment"), None)
    if found is None:
        token = TOKEN.search(content)
        if token is None:
            raise fail("the checkout names no payment (tag 'payment')")  # type: ignore[operator]
        return Payment("ecash", token.group(0))
    method = str(found[1])
    if method not in ("ecash", "lightning"):
        raise fail(f"payment method {method[:40]!r} is not taken here (ecash or lightning)")  # type: ignore[operator]
    return Payment(method, str(found[2]).strip(), str(found[3]) if len(found) > 3 else "")


def _donation(tag: object) -> int:
    """Shopstr's donation in sats, as its tag says (its cap is applied against the total)."""
    if not isinstance(tag, list | tuple) or len(tag) < 2:
        return 0
    try:
        return max(0, int(float(tag[1])))
    except ValueError:
        return 0


def required_msat(total_msat: int, donation_msat: int, method: str) -> int:
    """The least a real Shopstr checkout of `total_msat` sends the seller.

    Shopstr keeps `ceil(total * pct / 100)` as its donation (counted here up to its default
    2.1%, whatever the tag claims, plus a sat) and sends the rest; paying a lightning address it
    melts `floor(rest * 0.98 - 2)` sats, keeping 2% and 2 sats for the melt's fees
    (product-invoice-card.tsx, `sendTokens`). Ecash arrives whole (`includeFees`)."""
    total_sats = total_msat // 1000
    cap = -(-(total_sats * 21) // 1000) + 1  # ceil(2.1%), and a sat for float rounding
    seller_sats = total_sats - min(donation_msat // 1000, cap)
    if method == "lightning":
        return max(0, seller_sats * 98 // 100 - 3) * 1000  # floor(x * 0.98 - 2), a sat spare
    return seller_sats * 1000


# -- our own messages, read back -------------------------------------------------------------


def _ours(tags: Tags, content: str, subject: str | None) -> Message:
    order_id = gamma_order_id(tags, None)
    status = first(tags, "status")
    if subject == "order-payment":
        options = tuple(
            ("ln", str(tag[2])) for tag in tags
            if len(tag) > 2 and tag[0] == "payment" and tag[1] == "lightning"
        )  # fmt: skip
        return PaymentRequest(order_id, options, content)
    if status == "confirmed":
        return StatusUpdate(order_id, True, False, content, "paid")
    if status == "shipped":
        return StatusUpdate(order_id, True, True, content, "shipped")
    if status == "completed":
        return StatusUpdate(order_id, True, True, content, "completed")
    if status == "canceled":
        return _canceled(order_id, content)
    return PlainText(content)


def _canceled(order_id: str, content: str) -> PaymentRequest | StatusUpdate:
    if content.startswith(refused_prefix(order_id)):
        return PaymentRequest(order_id, (), content)
    if content.startswith(expired_prefix(order_id)):
        return StatusUpdate(order_id, False, False, content, "expired")
    return StatusUpdate(order_id, False, False, content, "cancelled")
