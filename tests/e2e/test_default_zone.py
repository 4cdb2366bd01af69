"""The merchant set-up says that a shipping zone "Online" comes with the merchant, and
lets the merchant leave it out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _set_up(open_page: Any, server: str, keep_zone: bool) -> str:
    """Sign up in the page and create the merchant; returns the admin key."""
    page = open_page(server, "/", "desktop").page
    page.locator("input[data-test=account-name]").fill("Porto books")
    page.locator("[data-test=create-account]").click()
    page.locator("[data-test=continue]").click()
    option = page.locator("[data-test=default-zone]")
    assert 'shipping zone "Online"' in option.inner_text()
    if not keep_zone:
        option.click()
    page.locator("[data-test=create-merchant]").click()
    page.locator("[data-test=tab-merchant]").wait_for()
    admin_key = page.evaluate("sessionStorage.getItem('nostrbazaar.adminkey')")
    assert admin_key
    return str(admin_key)


def _zones(server: str, admin_key: str) -> list[str]:
    answer = httpx.get(f"{server}/api/v1/zone", headers={"X-Api-Key": admin_key})
    return [zone["name"] for zone in answer.json()]


def test_the_online_zone_is_offered_and_created_by_default(open_page: Any, server: str) -> None:
    assert _zones(server, _set_up(open_page, server, keep_zone=True)) == ["Online"]


def test_a_merchant_may_start_without_the_online_zone(open_page: Any, server: str) -> None:
    assert _zones(server, _set_up(open_page, server, keep_zone=False)) == []
