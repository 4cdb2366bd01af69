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
