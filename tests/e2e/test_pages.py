"""The two pages load from this server alone and work at phone and desktop widths."""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_dashboard_loads_without_fetching_anything_from_elsewhere(
    open_page: Any, server: str, shoot: Any, viewport: str
) -> None:
    opened = open_page(server, "/", viewport)
    opened.page.locator("[data-test=admin-key]").wait_for()
    shoot(opened.page, f"dashboard-sign-in-{viewport}")
    assert opened.foreign == []
    assert opened.errors == []


def test_a_wrong_admin_key_is_refused_with_a_message(
    open_page: Any, server: str, shoot: Any
) -> None:
    page = open_page(server, "/").page
    page.locator("input[data-test=admin-key]").fill("0" * 32)
    page.locator("[data-test=sign-in]").click()
    error = page.locator("[data-test=error]")
    error.wait_for()
    assert "refused this admin key" in error.inner_text()
    assert page.evaluate("sessionStorage.getItem('nostrbazaar.adminkey')") is None
    shoot(page, "dashboard-wrong-key")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_market_loads_with_the_servers_relays(
    open_page: Any, server: str, shoot: Any, viewport: str
) -> None:
    config = httpx.get(f"{server}/market/config.json").json()
    assert config["relays"] and config["relays"][0].startswith("ws://127.0.0.1:")
    opened = open_page(server, "/market", viewport)
    opened.page.locator("[data-test=market]").wait_for()
    shoot(opened.page, f"market-empty-{viewport}")
    assert [url for url in opened.foreign if not url.startswith("ws://127.0.0.1")] == []
    assert opened.errors == []


def test_market_signs_with_a_nip07_extension_when_there_is_one(
    open_page: Any, server: str, shoot: Any
) -> None:
    secret = "7f" * 32
    page = open_page(server, "/market", nip07_secret=secret).page
    expected = page.evaluate(
        "(hex) => NostrTools.nip19.npubEncode(NostrTools.getPublicKey("
        "NostrTools.utils.hexToBytes(hex)))",
        secret,
    )
    page.locator("[data-test=identity]").click()
    page.get_by_text("Your browser extension (NIP-07) signs").wait_for()
    assert page.locator(f"input[value='{expected}']").count() == 1
    assert page.evaluate("localStorage.getItem('nostrbazaar.customer.secret')") is None
    shoot(page, "market-nip07-identity")


def test_market_without_extension_keeps_a_local_key_that_can_be_backed_up(
    open_page: Any, server: str, shoot: Any
) -> None:
    page = open_page(server, "/market").page
    page.locator("[data-test=identity]").click()
    page.get_by_text("Back it up").wait_for()
    page.get_by_role("button", name="Show Private key (nsec): keep it secret").click()
    nsec = page.locator("input[value^=nsec1]")
    nsec.wait_for()
    stored = page.evaluate("localStorage.getItem('nostrbazaar.customer.secret')")
    decoded = page.evaluate(
        "(nsec) => NostrTools.utils.bytesToHex(NostrTools.nip19.decode(nsec).data)",
        nsec.get_attribute("value"),
    )
    assert decoded == stored
    shoot(page, "market-local-key-backup")


def test_a_lost_connection_is_shown_and_retried(
    open_page: Any, server_process: Any, shoot: Any
) -> None:
    server = server_process.url
    key = httpx.post(f"{server}/api/v1/account", json={"name": "offline"}).json()["adminkey"]
    httpx.post(f"{server}/api/v1/merchant", json={}, headers={"X-Api-Key": key})
    page = open_page(server, "/").page
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    status = page.locator("[data-test=live-status]")
    status.get_by_text("Live").wait_for()

    server_process.stop()
    status.get_by_text(re.compile(r"Offline: retrying in \d+ s")).wait_for()
    shoot(page, "dashboard-offline")

    server_process.start()
    status.get_by_text("Live").wait_for(timeout=40_000)


def test_an_api_error_is_shown_next_to_the_form_that_caused_it(
    open_page: Any, server: str, shoot: Any
) -> None:
    key = httpx.post(f"{server}/api/v1/account", json={"name": "typo"}).json()["adminkey"]
    httpx.post(f"{server}/api/v1/merchant", json={}, headers={"X-Api-Key": key})
    page = open_page(server, "/", "phone").page
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    page.locator("[data-test=tab-catalogue]").click()
    page.locator("[data-test=add-zone]").click()
    page.locator("input[data-test=zone-name]").fill("Moon")
    page.locator("input[data-test=zone-cost]").fill("cheap")
    page.locator("[data-test=save-zone]").click()
    error = page.locator(".q-dialog [data-test=error]")
    error.wait_for()
    assert "cost" in error.inner_text()
    shoot(page, "dashboard-zone-error")


def test_the_market_says_when_no_relay_can_be_reached(
    open_page: Any, server_with: Any, shoot: Any
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server = server_with(relays=f"ws://127.0.0.1:{closed}")
    page = open_page(server, f"/market?merchant={'ab' * 32}", "phone").page
    error = page.locator("[data-test=error]")
    error.wait_for(timeout=20_000)
    assert "Could not load the market from the relays" in error.inner_text()
    shoot(page, "market-relays-unreachable")


def test_an_account_is_created_in_the_page_and_its_merchant_key_imported(
    open_page: Any, server: str, shoot: Any
) -> None:
    page = open_page(server, "/", "phone").page
    page.locator("input[data-test=account-name]").fill("Lisbon beans")
    page.locator("[data-test=create-account]").click()
    page.locator("[data-test=new-account]").wait_for()
    shoot(page, "dashboard-new-account")
    page.locator("[data-test=continue]").click()
    admin_key = page.evaluate("sessionStorage.getItem('nostrbazaar.adminkey')")
    assert admin_key and admin_key not in page.url

    nsec = page.evaluate("NostrTools.nip19.nsecEncode(NostrTools.generateSecretKey())")
    page.locator("[data-test=key-mode]").get_by_text("Import a private key").click()
    page.locator("input[data-test=private-key]").fill(nsec)
    page.locator("[data-test=create-merchant]").click()
    page.locator("[data-test=tab-merchant]").click()
    page.locator("[data-test=show-keys]").click()
    expected = page.evaluate(
        "(nsec) => NostrTools.nip19.npubEncode(NostrTools.getPublicKey("
        "NostrTools.nip19.decode(nsec).data))",
        nsec,
    )
    page.locator(f"input[value='{expected}']").wait_for()
    merchant = httpx.get(f"{server}/api/v1/merchant", headers={"X-Api-Key": admin_key}).json()
    assert merchant["npub"] == expected
    shoot(page, "dashboard-imported-merchant")
