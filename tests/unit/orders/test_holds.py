"""The new-customer rules: a shorter invoice, and a share of each product's stock."""

from __future__ import annotations

import pytest
from nostrbazaar.orders.holds import (
    ProductHolds,
    check_share,
    crowded,
    invoice_expiry,
    share_cap,
)
from nostrbazaar.orders.pricing import OrderInvalid
from nostrbazaar.orders.state import OrderItem

NOW = 1_800_000_000


def tea(available: int, held: int = 0, by_new: int | None = None, release: int | None = None):
    return {"tea": ProductHolds("tea", "Sencha", available, held, by_new, release)}


def order(quantity: int, *more: int) -> tuple[OrderItem, ...]:
    return tuple(OrderItem("tea", q) for q in (quantity, *more))


def test_a_new_customer_gets_the_shorter_expiry_and_a_returning_one_the_standard() -> None:
    assert invoice_expiry(3600, 600, returning=False) == 600
    assert invoice_expiry(3600, 600, returning=True) == 3600
    assert invoice_expiry(300, 600, returning=False) == 300  # never longer than the standard


@pytest.mark.parametrize(
    ("stock", "share", "cap"),
    [(10, 50, 5), (3, 50, 1), (1, 50, 1), (1, 1, 1), (0, 50, 0), (7, 100, 7), (200, 33, 66)],
)
def test_the_share_rounds_down_yet_leaves_one_unit_while_there_is_stock(
    stock: int, share: int, cap: int
) -> None:
    assert share_cap(stock, share) == cap


def test_an_order_within_the_share_passes() -> None:
    check_share(order(2), tea(8, held=2, by_new=2), 50, NOW)  # 2 + 2 <= 5 of 10


def test_an_order_that_would_push_new_customer_holds_over_the_share_says_when_to_retry() -> None:
    holds = tea(5, held=5, by_new=5, release=NOW + 599)
    with pytest.raises(OrderInvalid) as refused:
        check_share(order(1), holds, 50, NOW)
    expected = "5 units of Sencha are held by unpaid orders; try again in 10 minutes"
    assert refused.value.reason == expected


def test_the_wait_is_rounded_up_to_whole_minutes_and_at_least_one() -> None:
    for release, words in ((NOW + 61, "2 minutes"), (NOW + 5, "1 minute"), (NOW - 9, "1 minute")):
        with pytest.raises(OrderInvalid, match=f"1 unit of Sencha is held .* in {words}$"):
            check_share(order(1), tea(1, held=1, by_new=1, release=release), 50, NOW)


def test_holds_of_returning_customers_do_not_count_against_the_share() -> None:
    check_share(order(5), tea(5, held=5, by_new=0), 50, NOW)


def test_lines_of_the_same_product_add_up() -> None:
    with pytest.raises(OrderInvalid, match="at most 5 of Sencha can be reserved at once"):
        check_share(order(3, 3), tea(10), 50, NOW)


def test_an_order_larger_than_the_share_is_told_to_order_fewer() -> None:
    with pytest.raises(OrderInvalid, match="order fewer"):
        check_share(order(6), tea(10), 50, NOW)


def test_a_shortage_is_left_to_the_stock_reservation_to_refuse() -> None:
    check_share(order(3), tea(2, held=8, by_new=8), 50, NOW)  # "not enough stock" says it


def test_a_share_of_100_turns_the_rule_off() -> None:
    check_share(order(10), tea(10, held=90, by_new=90), 100, NOW)
    assert crowded(order(10), tea(10, held=90), 100) == []


def test_only_products_where_every_hold_could_break_the_share_need_counting() -> None:
    assert crowded(order(1), tea(1_000_000, held=4_000), 50) == []
    assert crowded(order(1), tea(5, held=5), 50) == ["tea"]
    assert crowded(order(6), tea(5, held=5), 50) == []  # short of stock: not the share's job


def test_uncounted_holds_are_taken_as_new_customers_which_can_only_refuse_more() -> None:
    with pytest.raises(OrderInvalid):
        check_share(order(1), tea(5, held=5), 50, NOW)
    check_share(order(1), tea(5, held=5, by_new=0), 50, NOW)
