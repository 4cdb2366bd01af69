"""The merchant marks a refund in the order's detail: money arrived that the order could
not take (a superseded invoice paid as well), the detail says so, the merchant notes how it
went back, and the order and its timeline say refunded (issue 18)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from support.dashboard_pages import (
    LIVE_TIMEOUT,
    api,
    fake_pay,
    order_on_market,
    orders_of,
    shop,
    sign_in,
)

pytestmark = pytest.mark.e2e


def wait_status(server: str, key: str, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + LIVE_TIMEOUT / 1000
    while time.monotonic() < deadline:
        order: dict[str, Any] = api(server, key, "GET", f"/order/{order_id}")
        if order["status"] == status:
            return order
        time.sleep(0.2)
    raise AssertionError(f"order {order_id} never became {status}")


def test_the_merchant_marks_an_extra_payment_refunded_with_a_note(
    open_page: Any, server: str
) -> None:
    key, merchant = shop(server)
    customer = open_page(server, f"/market?merchant={merchant['npub']}").page
    order_on_market(customer)
    [order] = orders_of(server, key, 1)
    first = order["bolt11"]
    reissued = api(server, key, "PUT", "/order/reissue", {"id": order["id"]})
    fake_pay(server, reissued["bolt11"])
    fake_pay(server, first)  # the old invoice, paid as well: money to give back
    wait_status(server, key, order["id"], "refund_needed")

    page = open_page(server, f"/#/orders/{order['id']}").page
    sign_in(page, key)
    detail = page.locator("[data-test=order-detail]")
    detail.locator("[data-test=refund-due]").wait_for(timeout=LIVE_TIMEOUT)
    detail.locator("input[data-test=refund-note]").fill("Sent back to your wallet")
    detail.locator("[data-test=mark-refunded]").click()
    timeline = detail.locator("[data-test=timeline]")
    timeline.get_by_text("Refunded:").wait_for(timeout=LIVE_TIMEOUT)
    assert detail.locator("[data-test=refund-due]").count() == 0
    after = wait_status(server, key, order["id"], "paid")
    assert after["refund_msat"] == 0
    last = api(server, key, "GET", f"/order/{order['id']}/events")[-1]
    assert (last["type"], last["data"]["note"]) == ("RefundRecorded", "Sent back to your wallet")
