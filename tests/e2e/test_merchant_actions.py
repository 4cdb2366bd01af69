"""Merchant actions on an order, and stalls found on relays, seen from both pages."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import nostr_sdk as sdk
import pytest

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT = 30_000


def api(server: str, key: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method, f"{server}/api/v1{path}", json=body, headers={"X-Api-Key": key}, timeout=20
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def shop(server: str, private_key: str | None = None) -> tuple[str, dict[str, Any]]:
    """An account whose merchant sells coffee beans in one stall; returns (admin key, merchant)."""
    key = httpx.post(f"{server}/api/v1/account", json={"name": "shop"}).json()["adminkey"]
    body = {"config": {"name": "Bean Counter"}}
    if private_key:
        body["private_key"] = private_key
    merchant = api(server, key, "POST", "/merchant", body)
    zone = api(server, key, "POST", "/zone", {"name": "Europe", "cost": 100, "countries": ["EU"]})
    stall_body = {"name": "Coffee stall", "shipping_zones": [zone["id"]]}
    stall = api(server, key, "POST", "/stall", stall_body)
    product = {"stall_id": stall["id"], "name": "Coffee beans", "price": 1000, "quantity": 5}
    api(server, key, "POST", "/product", product)
    return key, merchant


def sign_in(page: Any, key: str) -> None:
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    page.locator("[data-test=live-status]").get_by_text("Live").wait_for()


def place_order(page: Any) -> str:
    """Order one bag of coffee; returns the invoice the merchant sent."""
    card = page.locator("[data-test='product-Coffee beans']")
    card.wait_for(timeout=LIVE_TIMEOUT)
    card.locator("[data-test=add-to-cart]").click()
    page.locator("[data-test=tab-cart]").click()
    page.locator("[data-test=checkout]").click()
    page.locator("textarea[data-test=checkout-address]").fill("1 Main Street")
    page.locator("[data-test=place-order]").click()
    invoice = page.locator("[data-test=invoice]")
    invoice.wait_for(timeout=LIVE_TIMEOUT)
    return str(invoice.inner_text().strip())


def open_the_order(merchant: Any) -> None:
    merchant.locator("[data-test=orders-table]").get_by_text("awaiting payment").wait_for(
        timeout=LIVE_TIMEOUT
    )
    merchant.locator("[data-test=orders-table]").get_by_text("awaiting payment").click()
    merchant.locator("[data-test=order-detail]").wait_for()


def test_a_cancelled_order_shows_as_cancelled_to_the_customer(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, merchant_row = shop(server)
    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}", "phone").page
    place_order(customer)

    open_the_order(merchant)
    merchant.locator("[data-test=cancel]").click()
    merchant.locator("[data-test=detail-status]").get_by_text("cancelled").wait_for()
    shoot(merchant, "actions-merchant-cancelled")
    customer.locator("[data-test=order-state]").get_by_text("Cancelled").wait_for(
        timeout=LIVE_TIMEOUT
    )
    shoot(customer, "actions-customer-cancelled")


def test_a_reissued_invoice_replaces_the_old_one_on_the_customer_page(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, merchant_row = shop(server)
    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    first = place_order(customer)

    open_the_order(merchant)
    merchant.locator("[data-test=reissue]").click()
    invoice = customer.locator("[data-test=invoice]")
    # the page follows the merchant's new payment request: wait for that, not for a while
    customer.wait_for_function(
        "old => { const shown = document.querySelector('[data-test=invoice]');"
        " const text = shown ? shown.innerText.trim() : '';"
        " return text !== '' && text !== old; }",
        arg=first,
        timeout=LIVE_TIMEOUT,
    )
    assert invoice.inner_text().strip() not in ("", first)
    shoot(customer, "actions-customer-reissued")


def publish_from_another_device(server: str, secret: str, name: str, zone: dict[str, Any]) -> None:
    """A NIP-15 stall signed with the merchant's key elsewhere, sent straight to our relay."""
    relays = httpx.get(f"{server}/market/config.json").json()["relays"]
    keys = sdk.Keys.parse(secret)
    shipping = [{"id": zone["id"], "name": zone["name"], "cost": 100, "regions": ["EU"]}]
    stall = {"id": "elsewhere-1", "name": name, "currency": "sat", "shipping": shipping}
    event = (
        sdk.EventBuilder(sdk.Kind(30017), json.dumps(stall))
        .tags([sdk.Tag.identifier("elsewhere-1")])
        .finalize(keys)
    )

    async def send() -> None:
        client = sdk.Client()
        for url in relays:
            await client.add_relay(sdk.RelayUrl.parse(url))
        await client.connect(timedelta(seconds=5))
        await client.send_event(event)
        await client.shutdown()

    with ThreadPoolExecutor(1) as thread:  # Playwright holds this thread's event loop
        thread.submit(asyncio.run, send()).result(timeout=30)


def test_a_reimported_key_brings_its_stalls_back_and_others_found_on_relays_can_be_accepted(
    open_page: Any, server: str, shoot: Any
) -> None:
    """Importing the key restores the catalogue it published (signed by its own key, so
    accepted); a stall published later from another device comes back as pending."""
    secret = "3c" * 32
    old_key, old_merchant = shop(server, private_key=secret)
    stalls = api(server, old_key, "GET", "/stall")
    deadline = time.monotonic() + 20
    while stalls[0]["publication"]["status"] != "sent" and time.monotonic() < deadline:
        time.sleep(0.25)
        stalls = api(server, old_key, "GET", "/stall")
    api(server, old_key, "DELETE", f"/merchant/{old_merchant['id']}")

    key = httpx.post(f"{server}/api/v1/account", json={"name": "again"}).json()["adminkey"]
    api(server, key, "POST", "/merchant", {"private_key": secret, "default_zone": False})
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=tab-catalogue]").click()
    page.locator("[data-test=stalls]").get_by_text("Coffee stall").wait_for(timeout=LIVE_TIMEOUT)

    zone = api(server, key, "GET", "/zone")[0]  # restored with the stall that ships to it
    publish_from_another_device(server, secret, "Tea stall", zone)
    page.locator("[data-test=tab-merchant]").click()
    page.locator("[data-test=republish]").click()
    page.locator("[data-test=republish-result]").wait_for(timeout=LIVE_TIMEOUT)
    page.locator("[data-test=tab-catalogue]").click()
    pending = page.locator("[data-test=pending]")
    pending.get_by_text("Stall: Tea stall").wait_for()
    shoot(page, "actions-pending-stall")
    pending.get_by_role("button", name="Accept").first.click()
    page.locator("[data-test=stalls]").get_by_text("Tea stall").wait_for()


def merchant_call(method: str) -> Any:
    """A predicate for `expect_response`: the dashboard's `method` call on its merchant."""
    return lambda response: response.request.method == method and "/api/v1/merchant" in response.url


def test_the_profile_and_the_active_switch_are_saved(
    open_page: Any, server: str, shoot: Any
) -> None:
    """Each step waits for what it caused (the server's answer, the value shown), never for
    a while: under load a step takes longer, and nothing is read before it is there."""
    key, merchant_row = shop(server)
    page = open_page(server, "/", "phone").page
    sign_in(page, key)
    page.locator("[data-test=tab-merchant]").click()
    page.locator("[data-test=show-keys]").click()
    page.locator(f"input[value='{merchant_row['npub']}']").wait_for()
    page.locator("input[data-test=profile-display_name]").fill("Bean Counter Lisbon")
    page.locator("input[data-test=profile-website]").fill("not a url")
    with page.expect_response(merchant_call("PATCH")) as refused:
        page.locator("[data-test=save-profile]").click()
    assert refused.value.status == 422
    page.locator("[data-test=error]").get_by_text("website").wait_for()
    page.locator("input[data-test=profile-website]").fill("https://beans.example.org")
    with page.expect_response(merchant_call("PATCH")) as saved_profile:
        page.locator("[data-test=save-profile]").click()
    assert saved_profile.value.status == 200
    with page.expect_response(merchant_call("PUT")) as toggled:
        page.locator("[data-test=merchant-active]").click()
    assert toggled.value.status == 200 and toggled.value.url.endswith("/toggle")
    saved = api(server, key, "GET", "/merchant")["config"]
    assert (saved["display_name"], saved["active"]) == ("Bean Counter Lisbon", False)
    shoot(page, "actions-merchant-profile-phone")


def test_an_expired_invoice_is_shown_and_can_be_reissued(
    open_page: Any, server_with: Any, shoot: Any
) -> None:
    server = server_with(invoice_expiry="3")
    key, merchant_row = shop(server)
    merchant = open_page(server, "/").page
    sign_in(merchant, key)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}", "phone").page
    first = place_order(customer)

    customer.locator("[data-test=order-state]").get_by_text("Expired").wait_for(
        timeout=LIVE_TIMEOUT
    )
    shoot(customer, "actions-customer-expired")
    merchant.locator("[data-test=orders-table]").get_by_text("expired").click()
    merchant.locator("[data-test=reissue]").click()
    customer.locator("[data-test=order-state]").get_by_text("Waiting for payment").wait_for(
        timeout=LIVE_TIMEOUT
    )
    assert customer.locator("[data-test=invoice]").inner_text().strip() != first


def test_catalogue_items_can_be_edited_and_deleted(open_page: Any, server: str, shoot: Any) -> None:
    key, _ = shop(server)
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=tab-catalogue]").click()
    products = page.locator("[data-test=products]")
    products.get_by_text("Coffee beans").wait_for()

    products.get_by_role("button", name="Edit product", exact=True).click()
    page.locator("input[data-test=product-price]").fill("1200")
    page.locator("input[data-test=product-quantity]").fill("7")
    page.locator("[data-test=save-product]").click()
    products.get_by_text("1,200 sats · 7 in stock").wait_for()

    zones = page.locator("[data-test=zones]")
    zones.locator(".q-item", has_text="Europe").get_by_role(
        "button", name="Edit zone", exact=True
    ).click()
    page.locator("input[data-test=zone-cost]").fill("250")
    page.locator("[data-test=save-zone]").click()
    zones.get_by_text("250 sats").wait_for()

    products.get_by_role("button", name="Delete product", exact=True).click()
    products.get_by_text("No products in this stall yet.").wait_for()
    stalls = page.locator("[data-test=stalls]")
    stalls.get_by_role("button", name="Delete stall", exact=True).click()
    stalls.get_by_text("No stalls yet.").wait_for()
    shoot(page, "actions-catalogue-emptied")
    assert api(server, key, "GET", "/stall") == []


def test_the_ecash_card_shows_what_is_held_and_saves_trusted_mints(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, _merchant = shop(server)
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=tab-merchant]").click()
    card = page.locator("[data-test=ecash]")
    card.locator("[data-test=ecash-total]").get_by_text("Held: 0 sats").wait_for()
    card.locator("textarea[data-test=ecash-mints]").fill("https://mint.example\nftp://bad")
    card.locator("[data-test=ecash-save-mints]").click()
    card.locator("[data-test=error]").get_by_text("not an http(s) mint URL").wait_for()
    card.locator("textarea[data-test=ecash-mints]").fill("https://mint.example")
    card.locator("[data-test=ecash-save-mints]").click()
    deadline = time.monotonic() + 10
    while not api(server, key, "GET", "/cashu")["merchant_mints"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api(server, key, "GET", "/cashu")["trusted_mints"] == ["https://mint.example"]
    shoot(page, "actions-merchant-ecash")
