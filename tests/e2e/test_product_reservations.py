"""The product dialog shows who holds the product with unpaid orders, and sets the limit
per order (issue 17), on a real server and Debian's chromium."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT = 30_000


def api(server: str, key: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method, f"{server}/api/v1{path}", json=body, headers={"X-Api-Key": key}, timeout=20
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def shop(server: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An account selling coffee beans; returns (admin key, merchant, product)."""
    key = httpx.post(f"{server}/api/v1/account", json={"name": "shop"}).json()["adminkey"]
    merchant = api(server, key, "POST", "/merchant", {"config": {"name": "Bean Counter"}})
    zone = api(server, key, "POST", "/zone", {"name": "Europe", "cost": 100, "countries": ["EU"]})
    stall = api(server, key, "POST", "/stall", {"name": "Coffee", "shipping_zones": [zone["id"]]})
    body = {"stall_id": stall["id"], "name": "Coffee beans", "price": 1000, "quantity": 5}
    return key, merchant, api(server, key, "POST", "/product", body)


def order_one_bag(page: Any) -> None:
    card = page.locator("[data-test='product-Coffee beans']")
    card.wait_for(timeout=LIVE_TIMEOUT)
    card.locator("[data-test=add-to-cart]").click()
    page.locator("[data-test=tab-cart]").click()
    page.locator("[data-test=checkout]").click()
    page.locator("textarea[data-test=checkout-address]").fill("1 Main Street")
    page.locator("[data-test=place-order]").click()
    page.locator("[data-test=invoice]").wait_for(timeout=LIVE_TIMEOUT)


def test_the_product_dialog_lists_unpaid_holds_and_sets_a_limit_per_order(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, merchant_row, product = shop(server)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    order_one_bag(customer)

    page = open_page(server, "/").page
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    page.locator("[data-test=live-status]").get_by_text("Live").wait_for()
    page.locator("[data-test=tab-catalogue]").click()
    products = page.locator("[data-test=products]")
    products.get_by_role("button", name="Edit product", exact=True).click()
    held = page.locator("[data-test=product-reservations]")
    held.get_by_text("Held by unpaid orders: 1").wait_for(timeout=LIVE_TIMEOUT)
    held.get_by_text("new customer").wait_for()
    shoot(page, "product-reservations")

    page.locator("input[data-test=product-max-per-order]").fill("2")
    page.locator("[data-test=save-product]").click()
    page.locator("input[data-test=product-max-per-order]").wait_for(state="hidden")  # saved
    saved = api(server, key, "GET", f"/product/{product['id']}")
    assert saved["config"]["max_per_order"] == 2
