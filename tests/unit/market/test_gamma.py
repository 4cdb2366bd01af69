"""Gamma market spec messages: parsing (kind 16 types 1-4, kind 17) and our replies.

The orders are shaped like the spec's example (`../shared/specs/gamma/market-spec.md`,
"Order Creation") and like Plebeian Market's private order rumor
(`src/lib/orders/privateOrderMessage.ts`, `createPrivateOrderDetailsRumor`: a `name`
tag, a newline-joined address, empty content); the receipt like its
`src/publish/payment.tsx` `publishPaymentReceipt` (`external-payment` as the proof).
"""

from __future__ import annotations

import pytest
from nostrbazaar.market import gamma, gamma_replies
from nostrbazaar.market.nip15 import MessageError, OrderMessage, PaymentRequest, StatusUpdate
from nostrbazaar.orders.events import (
    InvoiceExpired,
    InvoiceIssued,
    OrderCancelled,
    OrderPaid,
    OrderRejected,
    OrderShipped,
    RefundNeeded,
)
from nostrbazaar.orders.pricing import OrderInvalid
from nostrbazaar.orders.state import Invoice, OrderDetails, OrderItem, OrderState, Quote

SHOP = "ab" * 32
OTHER = "cd" * 32
BOLT11 = "lnbcrt25u1pjexample"


def order_tags(**replace: list[list[str]]) -> list[list[str]]:
    tags = {
        "p": [["p", SHOP]],
        "subject": [["subject", "order-info"]],
        "type": [["type", "1"]],
        "order": [["order", "0b6f9b3e-5f5e-4c1a-9d39-6d2f1c3a7e11"]],
        "amount": [["amount", "2500"]],
        "item": [["item", f"30402:{SHOP}:p1", "2"]],
        "shipping": [["shipping", f"30406:{SHOP}:zone-1"]],
        "address": [["address", "1 Road\n\nLisbon\n1000\nPT"]],
        "email": [["email", "buyer@example.com"]],
        "phone": [["phone", "+351 000"]],
    }
    tags.update(replace)
    return [tag for group in tags.values() for tag in group]


def parse(tags: list[list[str]], content: str = "", kind: int = 16, **kw: bool) -> gamma.Message:
    return gamma.parse_rumor(kind, tags, content, SHOP, kw.get("outgoing", False),
                             public=kw.get("public", False))  # fmt: skip


def test_a_spec_order_reads_as_the_same_order_a_nip15_message_gives() -> None:
    message = parse(order_tags(), "please gift wrap")
    assert message == OrderMessage(
        id="0b6f9b3e-5f5e-4c1a-9d39-6d2f1c3a7e11",
        items=(OrderItem("p1", 2),),
        shipping_id="zone-1",
        address="1 Road\n\nLisbon\n1000\nPT",
        name=None,
        message="please gift wrap",
        contact={"email": "buyer@example.com", "phone": "+351 000"},
        amount_msat=2_500_000,
    )


def test_plebeian_markets_private_order_with_a_name_and_no_notes_reads_whole() -> None:
    message = parse(order_tags(email=[], phone=[], name=[["name", "Ann Buyer"]]), "")
    assert isinstance(message, OrderMessage)
    assert (message.name, message.message, message.contact) == ("Ann Buyer", None, {})


def test_the_same_listing_named_twice_is_added_up() -> None:
    items = [["item", f"30402:{SHOP}:p1", "1"], ["item", f"30402:{SHOP}:p2", "3"],
             ["item", f"30402:{SHOP}:p1", "2"]]  # fmt: skip
    message = parse(order_tags(item=items))
    assert isinstance(message, OrderMessage)
    assert message.items == (OrderItem("p1", 3), OrderItem("p2", 3))


@pytest.mark.parametrize(
    ("replace", "reason"),
    [
        ({"item": [["item", f"30402:{OTHER}:p1", "1"]]}, "unknown listing 30402:"),
        ({"item": [["item", f"30018:{SHOP}:p1", "1"]]}, "unknown listing 30018:"),
        ({"item": [["item", f"30402:{SHOP}:", "1"]]}, "unknown listing"),
        ({"item": [["item", f"30402:{SHOP}:p1", "0"]]}, "at least 1"),
        ({"item": [["item", f"30402:{SHOP}:p1", "1.5"]]}, "whole number"),
        ({"item": [["item", f"30402:{SHOP}:p1"]]}, "needs a listing and a quantity"),
        ({"item": []}, "missing tag 'item'"),
        ({"shipping": []}, "missing tag 'shipping'"),
        ({"shipping": [["shipping", f"30406:{OTHER}:zone-1"]]}, "unknown shipping option"),
        ({"amount": [["amount", "12.50"]]}, "whole satoshis"),
        ({"amount": []}, "whole satoshis"),
        ({"amount": [["amount", "0"]]}, "whole satoshis"),
    ],
)
def test_a_bad_order_is_refused_with_its_reason_and_its_order_id(
    replace: dict[str, list[list[str]]], reason: str
) -> None:
    with pytest.raises(MessageError, match=reason) as caught:
        parse(order_tags(**replace))
    assert caught.value.order_id == "0b6f9b3e-5f5e-4c1a-9d39-6d2f1c3a7e11"
    assert caught.value.type == 0  # an order: owed a refusal


@pytest.mark.parametrize("order_id", ["", "a/b", "..", "x" * 129])
def test_an_order_without_a_usable_id_cannot_be_refused_by_id(order_id: str) -> None:
    with pytest.raises(MessageError) as caught:
        parse(order_tags(order=[["order", order_id]]))
    assert caught.value.order_id is None


def test_a_public_order_is_only_a_marker_even_when_it_would_not_parse() -> None:
    marker = parse(order_tags(shipping=[], amount=[]), public=True)
    assert marker == gamma.OrderMarker("0b6f9b3e-5f5e-4c1a-9d39-6d2f1c3a7e11")


def test_a_plebeian_receipt_names_the_invoice_and_its_placeholder_proof() -> None:
    tags = [["p", SHOP], ["subject", "order-receipt"], ["order", "o-1"],
            ["payment", "lightning", BOLT11, "external-payment"], ["amount", "2500"]]  # fmt: skip
    receipt = parse(tags, "Payment confirmation", kind=17)
    assert receipt == gamma.Receipt("o-1", BOLT11, "external-payment", "2500")


def test_a_receipt_without_a_lightning_invoice_says_which_media_it_named() -> None:
    tags = [["p", SHOP], ["order", "o-1"], ["payment", "bitcoin", "bc1q...", "txid"]]
    with pytest.raises(MessageError, match="payment media given: bitcoin"):
        parse(tags, kind=17)


def test_a_buyers_cancelled_is_a_cancellation_with_its_reason() -> None:
    tags = [["p", SHOP], ["subject", "order-info"], ["type", "3"], ["order", "o-1"],
            ["status", "cancelled"]]  # fmt: skip
    assert parse(tags, "changed my mind") == gamma.BuyerCancel("o-1", "changed my mind")


@pytest.mark.parametrize(
    ("type_", "status", "expected"),
    [
        ("3", "confirmed", StatusUpdate("o-1", True, False, "x", "paid")),
        ("3", "completed", StatusUpdate("o-1", True, True, "x", "completed")),
        ("3", "pending", StatusUpdate("o-1", False, False, "x", None)),
        ("4", "shipped", StatusUpdate("o-1", True, True, "x", "shipped")),
        ("4", "processing", StatusUpdate("o-1", False, False, "x", None)),
    ],
)
def test_status_and_shipping_updates_read_as_the_status_they_announce(
    type_: str, status: str, expected: StatusUpdate
) -> None:
    tags = [["p", OTHER], ["type", type_], ["order", "o-1"], ["status", status]]
    assert parse(tags, "x", outgoing=True) == expected


def test_unknown_types_and_statuses_are_refused() -> None:
    with pytest.raises(MessageError, match="unknown order message type '9'"):
        parse([["type", "9"], ["order", "o-1"]])
    with pytest.raises(MessageError, match="unknown order status 'lost'"):
        parse([["type", "3"], ["order", "o-1"], ["status", "lost"]])


def test_the_amount_must_be_the_merchants_price_to_the_satoshi() -> None:
    msg = OrderMessage("o-1", (OrderItem("p1", 1),), "zone-1", amount_msat=2_500_000)
    gamma.check_amount(msg, Quote("zone-1", 2_400_000, 100_000, 2_500_000))
    gamma.check_amount(msg, Quote("zone-1", 2_499_500, 0, 2_499_500))  # a fraction of a sat
    with pytest.raises(OrderInvalid, match=r"amount \(2500 sat\) does not match .* \(2600 sat\)"):
        gamma.check_amount(msg, Quote("zone-1", 2_600_000, 0, 2_600_000))


# -- our replies -----------------------------------------------------------------------------

DETAILS = OrderDetails("ee" * 32, (OrderItem("p1", 1),), "nip17", dialect="gamma")
INVOICE = Invoice("h1", BOLT11, 2_500_500, 1_900_000_000)
STATE = OrderState("o-1", details=DETAILS, invoice=INVOICE)
# Plebeian Market's strict schemas (`src/lib/schemas/order.ts`): the tags each type may carry.
ALLOWED = {
    "2": {"p", "subject", "type", "order", "amount", "payment", "expiration"},
    "3": {"p", "subject", "type", "order", "status"},
    "4": {"p", "subject", "type", "order", "status", "tracking", "carrier", "eta"},
}


def tags_of(reply: gamma_replies.Reply) -> list[list[str]]:
    return [list(tag) for tag in reply.tags]


def test_a_payment_request_carries_the_invoice_the_amount_in_sats_and_the_expiry() -> None:
    (reply,) = gamma_replies.replies(STATE, [InvoiceIssued(INVOICE, Quote(None, 1, 0, 1))])
    assert (reply.kind, reply.type) == (16, 1)
    assert tags_of(reply) == [
        ["subject", "order-payment"], ["type", "2"], ["order", "o-1"], ["amount", "2501"],
        ["payment", "lightning", BOLT11], ["expiration", "1900000000"],
    ]  # fmt: skip


def test_an_adopted_invoice_or_the_merchants_own_moves_owe_no_message() -> None:
    adopted = InvoiceIssued(INVOICE, Quote(None, 1, 0, 1), adopted=True)
    events = [adopted, OrderPaid("h1", "merchant"), OrderShipped("sent", "merchant")]
    assert gamma_replies.replies(STATE, events) == []


def test_shipping_carries_tracking_and_carrier_when_given() -> None:
    (reply,) = gamma_replies.replies(STATE, [OrderShipped("on its way", "api", "TRK1", "CTT")])
    assert tags_of(reply)[-3:] == [["status", "shipped"], ["tracking", "TRK1"], ["carrier", "CTT"]]
    assert reply.content == "on its way"


EVENTS = [
    InvoiceIssued(INVOICE, Quote(None, 1, 0, 1)),
    OrderPaid("h1"),
    OrderShipped("sent", "api", "T", "C"),
    InvoiceExpired("h1"),
    OrderCancelled("too slow"),
    OrderRejected(DETAILS, "product p9 is not for sale"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_reply_carries_only_the_tags_a_strict_reader_accepts(event: object) -> None:
    (reply,) = gamma_replies.replies(STATE, [event])
    names = {tag[0] for tag in reply.tags}
    type_ = gamma.first(reply.tags, "type") or ""
    assert names <= ALLOWED[type_]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (OrderPaid("h1"), StatusUpdate("o-1", True, False, "Payment received for order o-1.",
                                       "paid")),
        (InvoiceExpired("h1"), "expired"),
        (OrderCancelled("too slow"), "cancelled"),
        (OrderRejected(DETAILS, "out of stock"), PaymentRequest(
            "o-1", (), "Order o-1 refused: out of stock")),
    ],
)  # fmt: skip
def test_our_own_replies_read_back_as_the_state_they_announce(
    event: object, expected: object
) -> None:
    """A restore reads the merchant's own messages: each must say what happened."""
    (reply,) = gamma_replies.replies(STATE, [event])
    read = parse([list(tag) for tag in reply.tags], reply.content, outgoing=True)
    if isinstance(expected, str):
        assert isinstance(read, StatusUpdate) and read.status == expected
        assert not read.paid
    else:
        assert read == expected


def test_a_refund_note_is_a_chat_message_about_the_order() -> None:
    (reply,) = gamma_replies.replies(STATE, [RefundNeeded("h2", 3000, "the order was cancelled")])
    assert (reply.kind, reply.type, reply.tags) == (14, -1, (("subject", "o-1"),))
    assert "3 sat" in reply.content and "refund" in reply.content
