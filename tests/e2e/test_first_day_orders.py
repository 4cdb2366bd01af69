"""A merchant's first day, the orders (issue 18): the table's count follows live orders,
refusals wait apart without a toast or a chat badge, the timeline reads in a merchant's
words, each order has its own address, bulk ship and cancel, and a link to the chat.
Screenshots at desktop and phone widths go to docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from support.dashboard_pages import (
    LIVE_TIMEOUT,
    api,
    fake_pay,
    order_on_market,
    orders_of,
    record_toasts,
    shop,
    sign_in,
    snap,
    toasts,
)

pytestmark = pytest.mark.e2e


def table_count(page: Any, shown: int, total: int) -> None:
    """Wait for the orders table's page label: "1\u2013SHOWN of TOTAL" (an en dash)."""
    bottom = page.locator("[data-test=orders-table] .q-table__bottom")
    bottom.get_by_text(f"1\u2013{shown} of {total}").wait_for(timeout=LIVE_TIMEOUT)


def test_the_count_follows_live_orders_and_refusals_wait_apart_without_a_toast(
    open_page: Any, server: str
) -> None:
    key, merchant_row = shop(server, quantity=20)
    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    record_toasts(merchant)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page

    order_on_market(customer, 1)
    table_count(merchant, 1, 1)
    order_on_market(customer, 2)
    orders_of(server, key, 2)
    table_count(merchant, 2, 2)
    order_on_market(customer, 50, expect="Rejected")
    merchant.locator("[data-test=view-refused]").get_by_text("Refused (1)").wait_for(
        timeout=LIVE_TIMEOUT
    )
    table_count(merchant, 2, 2)
    [refused] = api(server, key, "GET", "/order?refused=true")
    shown = toasts(merchant)
    assert sum("New order" in text for text in shown) == 2, shown
    assert not [text for text in shown if refused["id"][:8] in text], shown
    snap(merchant, "orders-live")

    merchant.locator("[data-test=view-refused]").click()
    table_count(merchant, 1, 1)
    table = merchant.locator("[data-test=orders-table]")
    table.get_by_text("not enough stock of Coffee beans").wait_for()
    snap(merchant, "orders-refused")

    merchant.reload()
    merchant.locator("[data-test=live-status]").get_by_text("Live").wait_for()
    merchant.locator("[data-test=tab-chat]").click()
    merchant.locator("[data-test=customers] .q-item.cursor-pointer").first.wait_for()
    assert merchant.locator("[data-test=tab-chat] .q-badge").count() == 0
    customers = api(server, key, "GET", "/customer")
    assert [c["unread_messages"] for c in customers] == [0]


def test_the_timeline_reads_in_a_merchants_words_with_unit_prices_and_the_expiry(
    open_page: Any, server: str
) -> None:
    key, merchant_row = shop(server, quantity=20)
    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    order_on_market(customer, 2)
    [order] = orders_of(server, key, 1)

    merchant.locator("[data-test=orders-table]").get_by_text("awaiting payment").click()
    detail = merchant.locator("[data-test=order-detail]")
    items = detail.locator("[data-test=order-items]")
    items.get_by_text("1,000 sats").wait_for()
    items.get_by_text("2,000 sats").wait_for()
    detail.locator("[data-test=invoice-expiry]").get_by_text("Expires").wait_for()
    timeline = detail.locator("[data-test=timeline]")
    timeline.get_by_text("Invoice sent: 2,100 sats, expires").wait_for()

    fake_pay(server, order["bolt11"])
    detail.locator("[data-test=detail-status]").get_by_text("paid").wait_for(timeout=LIVE_TIMEOUT)
    detail.locator("textarea[data-test=ship-message]").fill("Posted today")
    detail.locator("[data-test=ship]").click()
    timeline.get_by_text("Shipped: Posted today").wait_for(timeout=LIVE_TIMEOUT)
    steps = [text.split(" · ")[0] for text in timeline.locator("b").all_inner_texts()]
    assert steps[0] == "Order placed"
    assert "Paid" in steps and steps[-1] == "Shipped: Posted today", steps
    words = timeline.inner_text()
    for raw in ("OrderPlaced", "adopted", "msat", "by: api", "InvoiceIssued"):
        assert raw not in words
    assert detail.locator("[data-test=invoice-expiry]").count() == 0  # paid: no expiry shown
    snap(merchant, "order-timeline")


def test_bulk_ship_and_cancel_then_an_orders_own_address_and_its_chat(
    open_page: Any, server: str
) -> None:
    key, merchant_row = shop(server, quantity=20)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    for count in (1, 2, 3):
        order_on_market(customer, 1)
        orders = orders_of(server, key, count)
    for order in orders[:2]:
        fake_pay(server, order["bolt11"])

    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    table_count(merchant, 3, 3)
    merchant.locator("[data-test=orders-table]").get_by_text("paid", exact=True).nth(1).wait_for()
    for box in merchant.locator("[data-test=orders-table] tbody .q-checkbox").all():
        box.click()
    bar = merchant.locator("[data-test=bulk-bar]")
    bar.get_by_text("3 selected").wait_for()
    snap(merchant, "orders-bulk")
    assert merchant.locator("[data-test=order-detail]").count() == 0  # selecting opens nothing
    bar.locator("[data-test=bulk-ship]").get_by_text("Ship 2 paid").click()
    merchant.locator("textarea[data-test=bulk-ship-message]").fill("Posted today")
    merchant.locator("[data-test=bulk-ship-confirm]").click()
    result = merchant.locator("[data-test=bulk-result]")
    result.get_by_text("2 shipped, 1 left as they were (not paid).").wait_for()
    statuses = sorted(order["status"] for order in api(server, key, "GET", "/order"))
    assert statuses == ["awaiting_payment", "shipped", "shipped"]

    unpaid = merchant.locator("[data-test=orders-table] tbody tr", has_text="awaiting payment")
    unpaid.locator(".q-checkbox").click()
    bar.locator("[data-test=bulk-cancel]").get_by_text("Cancel 1 unpaid").click()
    merchant.locator("[data-test=bulk-cancel-confirm]").click()
    result.get_by_text("1 cancelled.").wait_for()
    statuses = sorted(order["status"] for order in api(server, key, "GET", "/order"))
    assert statuses == ["cancelled", "shipped", "shipped"]

    shipped = next(o for o in api(server, key, "GET", "/order") if o["status"] == "shipped")
    elsewhere = open_page(server, f"/#/orders/{shipped['id']}", "phone").page
    sign_in(elsewhere, key)
    detail = elsewhere.locator("[data-test=order-detail]")
    detail.get_by_text(shipped["id"][:6]).wait_for()
    detail.locator("[data-test=timeline]").get_by_text("Shipped: Posted today").wait_for()
    snap(elsewhere, "order-own-address", ("phone", "desktop"))
    detail.locator("[data-test=order-chat]").click()
    elsewhere.locator("[data-test=chat-log]").wait_for()
    assert elsewhere.evaluate("location.hash") == f"#/chat/{shipped['public_key']}"
    elsewhere.go_back()
    detail.get_by_text(shipped["id"][:6]).wait_for()
