"""A merchant and a customer, each in their own browser, from an empty shop to "shipped"."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LIVE_TIMEOUT = 30_000  # the relay round trips: order -> invoice -> payment -> paid DM


def create_account(server: str, name: str = "e2e shop") -> str:
    response = httpx.post(f"{server}/api/v1/account", json={"name": name})
    response.raise_for_status()
    return str(response.json()["adminkey"])


def field(page: Any, test_id: str) -> Any:
    """The text field of a Quasar input: QInput puts unknown attributes on the <input>."""
    selector = f"input[data-test={test_id}], textarea[data-test={test_id}]"
    return page.locator(f"{selector}, [data-test={test_id}] input").first


def fill(page: Any, test_id: str, value: str) -> None:
    field(page, test_id).fill(value)


def sign_in(page: Any, admin_key: str) -> None:
    fill(page, "admin-key", admin_key)
    page.locator("[data-test=sign-in]").click()


def choose(page: Any, test_id: str, option: str) -> None:
    page.locator(f"[data-test={test_id}]").click()
    page.get_by_role("option", name=re.compile(re.escape(option))).click()
    page.keyboard.press("Escape")


def add_chip(page: Any, test_id: str, value: str) -> None:
    chips = field(page, test_id)
    chips.fill(value)
    chips.press("Enter")


def set_up_merchant(page: Any, shoot: Any, name: str = "journey-01") -> None:
    """From sign-in to a merchant with one zone, one stall and one product, all in the UI."""
    fill(page, "merchant-name", "Bean Counter")
    page.locator("[data-test=create-merchant]").click()
    page.locator("[data-test=tab-catalogue]").click()
    page.locator("[data-test=add-zone]").click()
    fill(page, "zone-name", "Europe")
    fill(page, "zone-cost", "100")
    add_chip(page, "zone-countries", "Europe")
    page.locator("[data-test=save-zone]").click()
    page.locator("[data-test=zones]").get_by_text("Europe").first.wait_for()
    page.locator("[data-test=add-stall]").click()
    fill(page, "stall-name", "Coffee stall")
    fill(page, "stall-description", "Roasted this week")
    choose(page, "stall-zones", "Europe")
    page.locator("[data-test=save-stall]").click()
    page.locator("[data-test=stalls]").get_by_text("Coffee stall").wait_for()
    page.locator("[data-test=add-product]").click()
    fill(page, "product-name", "Coffee beans")
    fill(page, "product-description", "1 kg, whole beans")
    fill(page, "product-price", "1000")
    fill(page, "product-quantity", "5")
    add_chip(page, "product-categories", "coffee")
    page.locator("[data-test=save-product]").click()
    page.locator("[data-test=products]").get_by_text("Coffee beans").wait_for()
    page.locator(".q-dialog").wait_for(state="detached")
    shoot(page, f"{name}-merchant-catalogue")


def merchant_npub(server: str, admin_key: str) -> str:
    merchant = httpx.get(f"{server}/api/v1/merchant", headers={"X-Api-Key": admin_key}).json()
    return str(merchant["npub"])


def order_from_market(
    page: Any, quantity: int, shoot: Any, name: str, transport: str = "NIP-17"
) -> None:
    """Add the coffee to the cart, set the quantity and place the order."""
    card = page.locator("[data-test='product-Coffee beans']")
    card.wait_for(timeout=LIVE_TIMEOUT)
    shoot(page, f"{name}-market")
    card.locator("[data-test=add-to-cart]").click()
    page.locator("[data-test=tab-cart]").click()
    fill(page, "cart-quantity", str(quantity))
    page.locator("[data-test=checkout]").click()
    fill(page, "checkout-name", "Alice")
    fill(page, "checkout-address", "1 Main Street, Lisbon")
    fill(page, "checkout-email", "alice@example.org")
    page.locator("[data-test=checkout-transport]").get_by_text(transport).click()
    shoot(page, f"{name}-checkout")
    page.locator("[data-test=place-order]").click()
    page.locator("[data-test=order-status]").wait_for()


def pay(server: str, bolt11: str) -> None:
    response = httpx.post(f"{server}/api/v1/fakewallet/pay", json={"bolt11": bolt11})
    assert response.status_code == 200, response.text


def test_a_customer_orders_pays_and_sees_it_shipped(
    open_page: Any, server: str, shoot: Any
) -> None:
    admin_key = create_account(server)
    merchant = open_page(server, "/").page
    sign_in(merchant, admin_key)
    set_up_merchant(merchant, shoot)
    merchant.locator("[data-test=tab-orders]").click()
    merchant.locator("[data-test=live-status]").get_by_text("Live").wait_for()

    customer = open_page(server, f"/market?merchant={merchant_npub(server, admin_key)}").page
    order_from_market(customer, 2, shoot, "journey-02")
    invoice = customer.locator("[data-test=invoice]")
    invoice.wait_for(timeout=LIVE_TIMEOUT)
    shoot(customer, "journey-03-customer-invoice")

    pay(server, invoice.inner_text().strip())
    paid = merchant.locator("[data-test=orders-table]").get_by_text("paid", exact=True)
    paid.wait_for(timeout=LIVE_TIMEOUT)  # no reload: the websocket brought it
    shoot(merchant, "journey-04-merchant-paid")
    customer.locator("[data-test=order-state]").get_by_text("Paid").wait_for(timeout=LIVE_TIMEOUT)

    paid.click()
    dialect = merchant.locator("[data-test=order-dialect]")
    assert dialect.inner_text().strip() == "NIP-15 order"  # the market page speaks NIP-15
    method = merchant.locator("[data-test=order-payment-method]")
    assert method.inner_text().strip() == "· paid by lightning invoice"
    fill(merchant, "ship-message", "On its way: DHL 123")
    fill(merchant, "ship-tracking", "DHL 123")
    merchant.locator("[data-test=ship]").click()
    merchant.locator("[data-test=detail-status]").get_by_text("shipped").wait_for()
    shoot(merchant, "journey-05-merchant-shipped")

    customer.locator("[data-test=order-state]").get_by_text("Shipped").wait_for(
        timeout=LIVE_TIMEOUT
    )
    customer.get_by_text("On its way: DHL 123").first.wait_for()
    shoot(customer, "journey-06-customer-shipped")
    for page, name in ((customer, "customer-shipped"), (merchant, "merchant-order")):
        page.set_viewport_size(PHONE)
        shoot(page, f"journey-07-{name}-phone")

    merchant.keyboard.press("Escape")
    merchant.locator("[data-test=tab-chat]").click()
    customer_npub = customer.evaluate(
        "NostrTools.nip19.npubEncode(NostrTools.getPublicKey(NostrTools.utils.hexToBytes("
        "localStorage.getItem('nostrbazaar.customer.secret'))))"
    )
    fill(merchant, "chat-customer", customer_npub)
    merchant.locator("[data-test=chat-add]").click()
    fill(merchant, "chat-text", "Thanks for your order!")
    merchant.locator("[data-test=chat-send]").click()
    merchant.locator("[data-test=chat-log]").get_by_text("Thanks for your order!").wait_for()
    shoot(merchant, "journey-08-merchant-chat-phone")

    merchant.locator("[data-test=tab-orders]").click()
    merchant.locator("[data-test=restore-all]").click()
    summary = merchant.locator("[data-test=restore-summary]")
    summary.wait_for(timeout=LIVE_TIMEOUT)
    assert "messages read" in summary.inner_text()
    shoot(merchant, "journey-09-merchant-restored-phone")

    # Another browser, the same key (restored from its nsec backup): the history is rebuilt
    # from the customer's own DMs on the relay.
    nsec = customer.evaluate(
        "NostrTools.nip19.nsecEncode(NostrTools.utils.hexToBytes("
        "localStorage.getItem('nostrbazaar.customer.secret')))"
    )
    elsewhere = open_page(server, "/market", "phone").page
    elsewhere.locator("[data-test=identity]").click()
    fill(elsewhere, "import-key", nsec)
    elsewhere.locator("[data-test=use-key]").click()
    elsewhere.locator("[data-test=tab-orders]").click()
    history = elsewhere.locator("[data-test=order-history]")
    history.get_by_text("2 \u00d7 Coffee beans").wait_for(timeout=LIVE_TIMEOUT)
    history.get_by_text("shipped").wait_for(timeout=LIVE_TIMEOUT)
    shoot(elsewhere, "journey-10-history-elsewhere-phone")


def test_an_order_beyond_the_stock_shows_the_merchants_reason(
    open_page: Any, server: str, shoot: Any
) -> None:
    """The customer signs with a (stand-in) NIP-07 extension and orders over NIP-04."""
    admin_key = create_account(server)
    merchant = open_page(server, "/", "phone").page
    sign_in(merchant, admin_key)
    set_up_merchant(merchant, shoot, "rejected-00")

    market = f"/market?merchant={merchant_npub(server, admin_key)}"
    customer = open_page(server, market, "phone", nip07_secret="5e" * 32).page
    order_from_market(customer, 50, shoot, "rejected", transport="NIP-04")
    reason = customer.locator("[data-test=order-reason]")
    reason.wait_for(timeout=LIVE_TIMEOUT)
    assert reason.inner_text().strip()
    customer.locator("[data-test=order-state]").get_by_text("Rejected").wait_for()
    shoot(customer, "rejected-reason")
