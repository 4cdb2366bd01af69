"""Order ids are path segments of the API: a customer's id outside the safe alphabet is
refused with the reason (invariant 10) and makes no order, so no paid order is unreachable."""

from __future__ import annotations

import pytest
from nostrbazaar.market.nip15 import MessageError, OrderMessage, parse_message
from support.orders_fixtures import Customer, Shop, order_content, place

UNSAFE = ["../x", "a/b", "..", ".", "o 1", "o?1", "o#1", "o%2F1", "caf\u00e9", "o\n1", "a\\b"]
SAFE = ["o-1", "3f2b8c1e-9d4a-4c1b-8e2f-7a6b5c4d3e2f", "v1.2:x_y-z", "...", "a" * 128]


@pytest.mark.parametrize("order_id", UNSAFE)
def test_an_order_id_outside_the_safe_alphabet_is_refused_with_the_reason(order_id: str) -> None:
    with pytest.raises(MessageError, match="may only hold letters, digits") as caught:
        parse_message(order_content(order_id))
    assert caught.value.order_id is None  # never stored, never used as a key


@pytest.mark.parametrize("order_id", SAFE)
def test_an_order_id_of_letters_digits_and_dots_colons_dashes_is_read(order_id: str) -> None:
    message = parse_message(order_content(order_id))
    assert isinstance(message, OrderMessage) and message.id == order_id


async def test_a_customer_with_an_unsafe_order_id_is_told_why_and_nothing_is_ordered(
    shop: Shop, customer: Customer
) -> None:
    verdict = await place(shop, customer, "../../etc")
    assert verdict.verdict == "rejected" and "may only hold letters" in (verdict.reason or "")
    [answer] = await customer.inbox(shop)
    assert isinstance(answer, str) and "may only hold letters, digits" in answer
    assert await shop.db.fetchall("SELECT id FROM orders") == []
    assert await shop.stock() == 5
