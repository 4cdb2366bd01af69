"""NIP-15 message parsing: every bad input gets a reason; good input round-trips."""

from __future__ import annotations

import json

import pytest
from nostrbazaar.market import nip15 as m
from nostrbazaar.orders.state import OrderItem

GOOD = {
    "id": "order-1",
    "type": 0,
    "items": [{"product_id": "p1", "quantity": 2}],
    "shipping_id": "z1",
    "address": "1 Road",
    "contact": {"nostr": "ab" * 32, "email": "a@b.c", "phone": 5},
}


def order_with(**changes: object) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def item(quantity: object) -> str:
    return order_with(items=[{"product_id": "p1", "quantity": quantity}])


def test_a_good_order_parses_with_its_items_and_string_contacts_only() -> None:
    parsed = m.parse_message(json.dumps(GOOD))
    assert isinstance(parsed, m.OrderMessage)
    assert parsed.items == (OrderItem("p1", 2),)
    assert parsed.contact == {"nostr": "ab" * 32, "email": "a@b.c"}


def test_the_same_product_twice_is_added_up() -> None:
    raw = order_with(
        items=[{"product_id": "p1", "quantity": 2}, {"product_id": "p1", "quantity": 3}]
    )
    parsed = m.parse_message(raw)
    assert isinstance(parsed, m.OrderMessage)
    assert parsed.items == (OrderItem("p1", 5),)


def test_plain_text_is_a_chat_message() -> None:
    assert m.parse_message("hello, is this still available?") == m.PlainText(
        "hello, is this still available?"
    )


BAD_ORDERS = {
    "malformed JSON": ('{"id": "x", "type": 0', "not valid JSON", None),
    "truncated JSON": ('{"id": ', "not valid JSON", None),
    "unknown type": (json.dumps({"id": "o", "type": 7}), "unknown message type 7", "o"),
    "missing type": (json.dumps({"id": "o"}), "missing field 'type'", "o"),
    "missing id": (json.dumps({"type": 0, "items": []}), "missing field 'id'", None),
    "empty id": (order_with(id=""), "'id' must be a non-empty string", None),
    "numeric id": (order_with(id=5), "'id' must be a non-empty string", None),
    "huge id": (order_with(id="x" * 500), "longer than 128", None),
    "missing items": (order_with(items=...), "missing field 'items'", "order-1"),
    "empty items": (order_with(items=[]), "non-empty list", "order-1"),
    "items not a list": (order_with(items="p1"), "non-empty list", "order-1"),
    "item not an object": (order_with(items=["p1"]), "must be an object", "order-1"),
    "missing product id": (order_with(items=[{"quantity": 1}]), "product_id", "order-1"),
    "missing quantity": (order_with(items=[{"product_id": "p1"}]), "missing field", "order-1"),
    "zero quantity": (item(0), "at least 1", "order-1"),
    "negative quantity": (item(-3), "at least 1", "order-1"),
    "fractional quantity": (item(1.5), "whole number", "order-1"),
    "float quantity": (item(2.0), "whole number", "order-1"),
    "huge quantity": (item(10**30), "more than", "order-1"),
    "non-numeric quantity": (item("2"), "must be a number", "order-1"),
    "boolean quantity": (item(True), "must be a number", "order-1"),
    "null quantity": (item(None), "missing field", "order-1"),
    "missing shipping zone": (order_with(shipping_id=...), "shipping_id", "order-1"),
    "address not text": (order_with(address=["x"]), "'address' must be a string", "order-1"),
    "contact not an object": (order_with(contact="me"), "'contact' must be an object", "order-1"),
    "too many items": (
        order_with(items=[{"product_id": f"p{i}", "quantity": 1} for i in range(101)]),
        "too many items",
        "order-1",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ORDERS))
def test_every_bad_order_is_refused_with_a_reason_and_the_order_id_when_readable(
    case: str,
) -> None:
    raw, reason, order_id = BAD_ORDERS[case]
    with pytest.raises(m.MessageError) as caught:
        m.parse_message(raw)
    assert reason in caught.value.reason
    assert caught.value.order_id == order_id


def test_content_over_64_kib_is_refused_before_parsing() -> None:
    with pytest.raises(m.MessageError, match="64 KiB"):
        m.parse_message(order_with(message="x" * (64 * 1024)))


def test_a_status_update_needs_boolean_flags() -> None:
    with pytest.raises(m.MessageError, match="true or false"):
        m.parse_message(json.dumps({"id": "o", "type": 2, "paid": "yes"}))


def test_messages_we_write_parse_back_to_what_we_meant() -> None:
    request = m.parse_message(m.payment_request("o1", "lnbcrt1", "pay please"))
    assert request == m.PaymentRequest("o1", (("ln", "lnbcrt1"),), "pay please")
    assert isinstance(request, m.PaymentRequest) and request.lightning == "lnbcrt1"
    refusal = m.parse_message(m.refusal("o1", "unknown product"))
    assert refusal == m.PaymentRequest("o1", (), "unknown product")
    update = m.parse_message(m.status_update("o1", True, False, "thanks"))
    assert update == m.StatusUpdate("o1", True, False, "thanks")


def test_a_payment_request_has_the_nip15_shape() -> None:
    assert json.loads(m.payment_request("o1", "lnbc1")) == {
        "id": "o1",
        "type": 1,
        "payment_options": [{"type": "ln", "link": "lnbc1"}],
    }


def test_sat_amounts_read_well_for_people() -> None:
    assert m.format_sats(1000) == "1 sat"
    assert m.format_sats(2500) == "2.5 sat"
    assert m.format_sats(1) == "0.001 sat"
