"""nostrbazaar inside a real LNbits 1.6.2 (FakeWallet funding), installed as an admin installs
it: from a manifest served on 127.0.0.1, through LNbits' admin API (support.lnbits_extension).

Every test runs twice: LNbits on SQLite, and LNbits on PostgreSQL (its own
`LNBITS_DATABASE_URL`; skipped with the reason when no PostgreSQL server answers). A user
registers, enables the extension and makes a merchant, a stall and a product with their
wallet's admin key. Customers (nostr-sdk, through a LocalRelay) order over NIP-04 and
NIP-17; the invoice is in the user's LNbits wallet; paying it from another LNbits wallet
makes the order paid and tells the customer; shipping tells the customer too.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from support import pg
from support.lnbits_extension import (
    API,
    EXT_ID,
    Shop,
    enable,
    installed_shop,
    new_user,
    ok,
    refused,
    schema_facts,
    until_started,
)
from support.orders_fixtures import order_content
from support.relay_customer import RelayCustomer, of_type

pytestmark = [pytest.mark.lnbits, pytest.mark.slow]
module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shop]:
    database_url = None
    if request.param == "postgresql":
        problem = pg.server_problem()
        if problem is not None:
            pytest.skip(problem)
        database_url = pg.create_database()
    try:
        async with installed_shop(tmp_path_factory.mktemp(request.param), database_url) as made:
            yield made
    finally:
        if database_url is not None:
            pg.drop_database(database_url)


async def _order(shop: Shop, transport: str, order_id: str) -> tuple[RelayCustomer, str]:
    """A customer orders one Sencha; returns them and the invoice they are asked to pay."""
    customer = RelayCustomer([shop.relay_url])
    await customer.connect()
    content = order_content(order_id, items=[(shop.product_id, 1)], zone=shop.zone_id)
    pubkey = shop.merchant["public_key"]
    if transport == "nip04":
        event = customer.me.nip04(pubkey, content)
    else:
        event = customer.me.nip17(pubkey, content)
    await customer.send(event)
    replies = await customer.wait_for(pubkey, lambda r: bool(of_type(r, 1)), attempts=300)
    [request] = of_type(replies, 1)
    [option] = [o for o in request["payment_options"] if o["type"] == "ln"]
    return customer, option["link"]


async def _order_status(shop: Shop, order_id: str, wanted: str) -> dict[str, Any]:
    order: dict[str, Any] = {}
    for _ in range(300):
        order = ok(await shop.http.get(f"{API}/order/{order_id}", headers=shop.read()))
        if order["status"] == wanted:
            return order
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} is {order.get('status')}, not {wanted}")


@module_loop
async def test_the_admin_installs_it_and_lnbits_migrates_and_starts_it(shop: Shop) -> None:
    assert shop.installed["code"] == EXT_ID
    bearer = {"Authorization": f"Bearer {shop.server.admin_token}"}
    listed = ok(await shop.http.get("/api/v1/extension/all", headers=bearer))
    [ours] = [e for e in listed if e["id"] == EXT_ID]
    assert ours["isInstalled"] and ours["isActive"] and ours["hasDatabaseTables"]
    assert ours["installedRelease"]["version"] == "0.1.0"
    health = ok(await shop.http.get(f"{API}/health"))
    assert health["wallet"]["backend"] == "lnbits-internal"
    assert health["relays"] == {shop.relay_url: "connected"}
    assert health["storage"]["engine"] == ("sqlite" if shop.database_url is None else "postgresql")
    applied, triggers = await schema_facts(shop)
    assert applied[:2] == ["m001_catalogue", "m002_orders"] and len(applied) >= 9
    assert {"orders_status_transition", "orders_initial_status"} <= triggers
    assert any(name.startswith("order_events_append_only") for name in triggers)


@pytest.mark.parametrize("transport", ["nip04", "nip17"])
@module_loop
async def test_a_customer_orders_pays_from_another_wallet_and_is_told_of_payment_and_shipping(
    shop: Shop, transport: str
) -> None:
    order_id = f"tea-{transport}"
    customer, bolt11 = await _order(shop, transport, order_id)
    try:
        order = await _order_status(shop, order_id, "awaiting_payment")
        payment = ok(
            await shop.http.get(f"/api/v1/payments/{order['invoice_id']}", headers=shop.read())
        )
        assert payment["paid"] is False  # the invoice is in the shop's own LNbits wallet
        assert payment["details"]["wallet_id"] == shop.user.wallet_id
        assert payment["details"]["extra"]["tag"] == EXT_ID

        await asyncio.to_thread(shop.server.pay, bolt11)  # from the payer's LNbits wallet
        assert (await _order_status(shop, order_id, "paid"))["paid"] is True
        pubkey = shop.merchant["public_key"]
        replies = await customer.wait_for(
            pubkey, lambda r: any(m.get("paid") for m in of_type(r, 2))
        )
        assert any(m["id"] == order_id and m["paid"] for m in of_type(replies, 2))

        body = {"shipped": True, "message": "On its way"}
        ok(await shop.http.patch(f"{API}/order/{order_id}", headers=shop.admin(), json=body))
        replies = await customer.wait_for(
            pubkey, lambda r: any(m.get("shipped") for m in of_type(r, 2))
        )
        assert any(m["id"] == order_id and m["shipped"] for m in of_type(replies, 2))
        assert (await _order_status(shop, order_id, "shipped"))["shipped"] is True
    finally:
        await customer.close()


@module_loop
async def test_the_database_rules_hold_where_lnbits_keeps_our_data(shop: Shop) -> None:
    """The status trigger and the append-only log, in LNbits' file or its PostgreSQL."""
    shipped = ok(await shop.http.get(f"{API}/order?status=shipped", headers=shop.read()))
    assert shipped, "the order journey runs first"
    order_id = shipped[0]["id"]
    backwards = "UPDATE orders SET status = 'awaiting_payment' WHERE id = ?"
    assert await refused(shop, backwards, order_id)
    assert await refused(shop, "DELETE FROM order_events WHERE order_id = ?", order_id)
    assert not await refused(shop, "SELECT 1 FROM orders WHERE id = ?", order_id)


@module_loop
async def test_a_missing_wrong_or_foreign_key_is_refused(shop: Shop) -> None:
    orders = f"{API}/order"
    assert (await shop.http.get(orders)).status_code == 401
    assert (await shop.http.get(orders, headers={"X-Api-Key": "0" * 32})).status_code == 404
    payer = shop.server.payer  # a user of this LNbits who has not enabled the extension
    assert payer is not None
    not_enabled = await shop.http.get(orders, headers={"X-Api-Key": payer.adminkey})
    assert not_enabled.status_code == 403
    other = await new_user(shop.http, "othershop")
    await enable(shop.http, other)
    theirs = {"X-Api-Key": other.adminkey}
    ok(await shop.http.post(f"{API}/merchant", headers=theirs, json={"config": {"name": "Other"}}))
    assert (await shop.http.get(f"{orders}/tea-nip04", headers=theirs)).status_code == 404
    product = f"{API}/product/{shop.product_id}"
    assert (await shop.http.get(product, headers=theirs)).status_code == 404
    zone = {"name": "EU", "currency": "sat"}
    by_invoice_key = await shop.http.post(f"{API}/zone", headers=shop.read(), json=zone)
    assert by_invoice_key.status_code == 401


@module_loop
async def test_the_market_page_and_its_files_work_under_the_extension_path(shop: Shop) -> None:
    page = await shop.http.get(f"/{EXT_ID}/market")
    assert page.status_code == 200
    assert f'src="/{EXT_ID}/static/js/market.js' in page.text
    found = re.search(r'<script id="nb-config" type="application/json">(.*?)</script>', page.text)
    assert found is not None
    config = json.loads(found.group(1))
    assert config["base"] == f"/{EXT_ID}" and shop.relay_url in config["relays"]
    assert shop.merchant["public_key"] in config["merchants"]
    assert (await shop.http.get(f"/{EXT_ID}/static/js/market.js")).status_code == 200


@module_loop
async def test_the_dashboard_renders_in_lnbits_page_frame(shop: Shop) -> None:
    cookies = {"cookie_access_token": shop.user.token}
    async with httpx.AsyncClient(base_url=shop.server.url, cookies=cookies) as signed_in:
        page = await signed_in.get(f"/{EXT_ID}/")
    assert page.status_code == 200
    assert "window.g.user" in page.text  # LNbits' base template, with the signed-in user
    assert '<template id="nb-orders">' in page.text
    assert f"/{EXT_ID}/static/js/lnbits-dashboard.js" in page.text
    assert "vendor/vue/vue.global" not in page.text  # LNbits' own Vue and Quasar
    assert (await shop.http.get(f"/{EXT_ID}/")).status_code in (401, 307)


def test_the_users_dashboard_inside_lnbits_shows_the_orders(shop: Shop) -> None:
    """Debian's chromium (Playwright) opens the extension's page signed in as the user."""
    from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make test-deps` (apt-get install chromium)")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            cookie = {"name": "cookie_access_token", "value": shop.user.token}
            context.add_cookies([{**cookie, "url": shop.server.url}])
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{shop.server.url}/{EXT_ID}/")
            page.locator("[data-test=live-status]").get_by_text("Live").wait_for()
            table = page.locator("[data-test=orders-table]")
            for order_id in ("tea-nip04", "tea-nip17"):
                table.locator(f"[data-test='status-{order_id}']").get_by_text("shipped").wait_for()
            name = (
                "lnbits-dashboard" if shop.database_url is None else "lnbits-dashboard-postgresql"
            )
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []


@module_loop
async def test_deactivating_stops_it_and_activating_starts_it_again(shop: Shop) -> None:
    """LNbits' own stop and start hooks (no arguments), as an admin's switch calls them."""
    bearer = {"Authorization": f"Bearer {shop.server.admin_token}"}
    ok(await shop.http.put(f"/api/v1/extension/{EXT_ID}/deactivate", headers=bearer))
    assert (await shop.http.get(f"{API}/health")).status_code >= 400
    ok(await shop.http.put(f"/api/v1/extension/{EXT_ID}/activate", headers=bearer))
    await until_started(shop.http)
    shipped = ok(await shop.http.get(f"{API}/order?status=shipped", headers=shop.read()))
    assert {order["id"] for order in shipped} == {"tea-nip04", "tea-nip17"}


@module_loop
async def test_after_lnbits_restarts_it_starts_with_lnbits_and_takes_payments(shop: Shop) -> None:
    """LNbits' loader starts it at boot (start hook called without awaiting); the invoice
    listener is registered again: a new order is paid and shipped orders are still there."""
    await asyncio.to_thread(shop.server.restart)
    await until_started(shop.http)
    customer, bolt11 = await _order(shop, "nip04", "tea-after-restart")
    try:
        await asyncio.to_thread(shop.server.pay, bolt11)
        assert (await _order_status(shop, "tea-after-restart", "paid"))["paid"] is True
    finally:
        await customer.close()
    shipped = ok(await shop.http.get(f"{API}/order?status=shipped", headers=shop.read()))
    assert len(shipped) == 2
