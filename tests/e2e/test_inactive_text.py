"""The Active switch says what switching off does: new orders refused at once, with the
words the customer reads, and nothing queued (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest
from support.dashboard_pages import shop, sign_in

pytestmark = pytest.mark.e2e


def test_the_active_switch_says_new_orders_are_refused_not_queued(
    open_page: Any, server: str
) -> None:
    key, _ = shop(server)
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=tab-merchant]").click()
    meaning = page.locator("[data-test=active-meaning]").inner_text()
    assert "this shop is not taking orders right now" in meaning
    assert "Nothing is queued" in meaning
