"""A merchant's first day, the shop (issue 18): relay health in the header in plain words
and why a publication waits; the chat by name with icons; catalogue validation with a
country picker; placeholders for broken images; the phone layout. Screenshots at desktop
and phone widths go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.dashboard_pages import LIVE_TIMEOUT, api, order_on_market, shop, sign_in, snap
from support.relay_process import RelayProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def relay() -> Iterator[RelayProcess]:
    process = RelayProcess()
    process.start()
    yield process
    process.stop()


def test_the_header_says_when_the_only_relay_is_down_and_why_a_product_waits(
    open_page: Any, server_with: Any, relay: RelayProcess
) -> None:
    server = server_with(relays=relay.url)
    key, _ = shop(server)
    page = open_page(server, "/").page
    sign_in(page, key)
    health = page.locator("[data-test=relay-health]")
    health.get_by_text("Relay connected").wait_for(timeout=LIVE_TIMEOUT)

    relay.stop()
    health.get_by_text("Relay down").wait_for(timeout=LIVE_TIMEOUT)
    page.locator("[data-test=live-status]").get_by_text("Live").wait_for()  # the server is up
    stall = api(server, key, "GET", "/stall")[0]
    [product] = api(server, key, "GET", f"/stall/product/{stall['id']}")
    api(server, key, "PATCH", f"/product/{product['id']}", {"price": 1200})
    page.locator("[data-test=tab-catalogue]").click()
    why = page.locator("[data-test='publication-why-Coffee beans']")
    why.get_by_text("Waiting:").wait_for(timeout=LIVE_TIMEOUT)
    snap(page, "relay-down")
    health.click()
    menu = page.locator("[data-test=relay-health-menu]")
    menu.get_by_text(relay.url.removeprefix("ws://")).wait_for()
    menu.get_by_text("nothing is lost").wait_for()
    assert "down" in menu.inner_text()
    snap(page, "relay-down-menu", ("desktop",))
    page.keyboard.press("Escape")

    relay.start()
    health.get_by_text("Relay connected").wait_for(timeout=LIVE_TIMEOUT)
    why.wait_for(state="detached", timeout=LIVE_TIMEOUT)
    page.locator("[data-test=products]").get_by_text("on relays").wait_for()


def test_the_chat_lists_each_customer_once_by_name_with_icons_not_emoji(
    open_page: Any, server: str
) -> None:
    key, merchant_row = shop(server, quantity=20)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    order_on_market(customer, 1, name="Alice")
    order_on_market(customer, 50, name="Alice", expect="Rejected")
    page = open_page(server, "/#/chat").page
    sign_in(page, key)

    people = page.locator("[data-test=customers] .q-item.cursor-pointer")
    people.get_by_text("Alice", exact=True).wait_for()
    assert people.count() == 1
    assert people.first.inner_text().count("npub1") == 1
    people.first.click()
    page.locator("[data-test=chat-with]").get_by_text("Alice").wait_for()
    log = page.locator("[data-test=chat-log]")
    icons = log.locator("[data-test=message-icon]")
    icons.first.wait_for()
    assert set(icons.all_inner_texts()) >= {"shopping_cart", "receipt_long"}
    for emoji in ("\U0001f6d2", "\U0001f9fe", "\U0001f4e6"):
        assert emoji not in log.inner_text()
    font = icons.first.evaluate("icon => getComputedStyle(icon).fontFamily")
    assert "Material Icons" in font
    snap(page, "chat-by-name")


def test_a_zone_takes_countries_by_name_and_a_price_of_zero_needs_free(
    open_page: Any, server: str
) -> None:
    key, _ = shop(server)
    page = open_page(server, "/#/catalogue").page
    sign_in(page, key)
    page.locator("[data-test=add-zone]").click()
    page.locator("input[data-test=zone-name]").fill("Iberia")
    page.locator("input[data-test=zone-cost]").fill("50")
    picker = "input[data-test=zone-countries], [data-test=zone-countries] input"
    countries = page.locator(picker).first
    countries.fill("portu")
    page.get_by_role("option", name="Portugal").click()
    countries.fill("spain")
    countries.press("Enter")
    countries.fill("Atlantis")
    countries.press("Enter")
    dialog = page.locator(".q-dialog")
    dialog.get_by_text("Spain").wait_for()
    page.locator("[data-test=save-zone]").click()
    dialog.get_by_text("'Atlantis' is not a country").wait_for()
    snap(page, "catalogue-countries")
    dialog.locator(".q-chip", has_text="Atlantis").locator(".q-chip__icon--remove").click()
    page.locator("[data-test=save-zone]").click()
    zones = page.locator("[data-test=zones]")
    zones.get_by_text("Portugal, Spain").wait_for()
    iberia = next(z for z in api(server, key, "GET", "/zone") if z["name"] == "Iberia")
    assert iberia["countries"] == ["PT", "ES"]

    page.locator("[data-test=add-product]").click()
    page.locator("input[data-test=product-name]").fill("Sticker")
    page.locator("input[data-test=product-price]").fill("0")
    page.locator("[data-test=save-product]").click()
    dialog.get_by_text("switch on \u201cFree\u201d").wait_for()
    page.locator("[data-test=product-free]").click()
    page.locator("[data-test=save-product]").click()
    page.locator("[data-test=products]").get_by_text("Free · 1 in stock").wait_for()
    stall = api(server, key, "GET", "/stall")[0]
    products = api(server, key, "GET", f"/stall/product/{stall['id']}")
    sticker = next(p for p in products if p["name"] == "Sticker")
    assert (sticker["price"], sticker["config"]["free"]) == (0, True)


def test_a_picture_that_cannot_load_shows_a_placeholder_on_both_pages(
    open_page: Any, server: str
) -> None:
    missing = f"{server}/static/images/no-such-photo.jpg"
    key, merchant_row = shop(server, images=[missing])
    market = open_page(server, f"/market?merchant={merchant_row['npub']}").page
    dashboard = open_page(server, "/#/catalogue").page
    sign_in(dashboard, key)
    for page in (market, dashboard):
        image = page.locator("img[data-test=product-image]").first
        image.wait_for(timeout=LIVE_TIMEOUT)
        page.wait_for_function(
            "() => [...document.querySelectorAll('img[data-test=product-image]')].every("
            "i => i.complete && i.naturalWidth > 0 && i.src.endsWith('/no-image.svg'))"
        )
        assert image.get_attribute("alt") == "No picture"
    snap(market, "market-placeholder")


WRAPPED_NPUBS = """() => [...document.querySelectorAll('body *')]
  .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.includes('npub1')))
  .filter(e => e.offsetParent !== null && e.getClientRects().length > 0)
  .filter(e => e.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(e).lineHeight))
  .map(e => e.textContent.trim())"""


def test_at_phone_width_every_tab_fits_and_no_npub_wraps(open_page: Any, server: str) -> None:
    key, merchant_row = shop(server, quantity=20)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}", "phone").page
    order_on_market(customer, 1)
    page = open_page(server, "/", "phone").page
    sign_in(page, key)
    assert page.locator(".nb-tabs.q-tabs--scrollable").count() == 0
    for tab in ("orders", "stats", "catalogue", "chat", "merchant"):
        box = page.locator(f"[data-test=tab-{tab}]").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (tab, box)
    page.locator("[data-test=orders-table]").get_by_text("awaiting payment").click()
    page.locator("[data-test=customer-npub]").wait_for()
    assert page.evaluate(WRAPPED_NPUBS) == []
    snap(page, "phone-order", ("phone",))
    page.keyboard.press("Escape")
    page.locator("[data-test=order-detail]").wait_for(state="detached")
    page.locator("[data-test=tab-merchant]").click()
    page.locator("[data-test=show-keys]").wait_for()
    assert page.evaluate(WRAPPED_NPUBS) == []
    page.locator("[data-test=tab-chat]").click()
    page.locator("[data-test=customers]").get_by_text("Alice").wait_for()
    assert page.evaluate(WRAPPED_NPUBS) == []
    snap(page, "phone-chat", ("phone", "desktop"))
