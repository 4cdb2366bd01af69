"""The operator's console in a real browser: a restore as a job with its progress bar, the
bell counting a notification live, the sales charts following a payment, the CSV download,
the first-run checklist, and the API docs loading nothing from another host."""

from __future__ import annotations

import csv
import io
import time
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


def account(server: str) -> str:
    return str(httpx.post(f"{server}/api/v1/account", json={"name": "shop"}).json()["adminkey"])


def shop(server: str) -> tuple[str, dict[str, Any]]:
    """A merchant selling coffee beans in one stall; (admin key, merchant)."""
    key = account(server)
    merchant = api(server, key, "POST", "/merchant", {"config": {"name": "Bean Counter"}})
    zone = api(server, key, "POST", "/zone", {"name": "Europe", "cost": 100, "countries": ["EU"]})
    stall = api(
        server, key, "POST", "/stall", {"name": "Coffee stall", "shipping_zones": [zone["id"]]}
    )
    product = {"stall_id": stall["id"], "name": "Coffee beans", "price": 1000, "quantity": 50}
    api(server, key, "POST", "/product", product)
    return key, merchant


def sign_in(page: Any, key: str) -> None:
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    page.locator("[data-test=live-status]").get_by_text("Live").wait_for()


def place_order(page: Any) -> None:
    """The customer orders a bag of coffee on the market page and gets the invoice."""
    page.locator("[data-test=tab-market]").click()
    card = page.locator("[data-test='product-Coffee beans']")
    card.wait_for(timeout=LIVE_TIMEOUT)
    card.locator("[data-test=add-to-cart]").click()
    page.locator("[data-test=tab-cart]").click()
    page.locator("[data-test=checkout]").click()
    page.locator("textarea[data-test=checkout-address]").fill("1 Main Street")
    page.locator("[data-test=place-order]").click()
    page.locator("[data-test=invoice]").last.wait_for(timeout=LIVE_TIMEOUT)


def orders_of(server: str, key: str, wanted: int) -> list[dict[str, Any]]:
    """The merchant's orders once there are `wanted` of them (bounded wait)."""
    deadline = time.monotonic() + LIVE_TIMEOUT / 1000
    while time.monotonic() < deadline:
        orders: list[dict[str, Any]] = api(server, key, "GET", "/order")
        if len(orders) >= wanted:
            return orders
        time.sleep(0.2)
    raise AssertionError(f"fewer than {wanted} orders arrived")


def fake_pay(server: str, bolt11: str) -> None:
    response = httpx.post(f"{server}/api/v1/fakewallet/pay", json={"bolt11": bolt11}, timeout=20)
    assert response.status_code == 200, response.text


def test_a_restore_shows_its_job_with_a_progress_bar_and_the_summary(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, merchant_row = shop(server)
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}", "phone").page
    place_order(customer)
    orders_of(server, key, 1)
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=restore-all]").click()
    job = page.locator("[data-test=jobs] .q-card").first
    job.locator("[data-test=job-progress]").wait_for()
    job.locator("[data-test=job-state]").get_by_text("done").wait_for(timeout=LIVE_TIMEOUT)
    summary = job.locator("[data-test=restore-summary]")
    assert "messages read" in summary.inner_text()
    assert "Events from each relay" in job.inner_text()
    bar = job.locator("[data-test=job-progress]")
    assert bar.get_attribute("aria-valuenow") in ("1", "100")
    shoot(page, "console-01-restore-job")
    jobs = api(server, key, "GET", "/jobs")
    assert [j["state"] for j in jobs] == ["done"]


def test_the_bell_the_charts_and_the_csv_follow_the_orders_live(
    open_page: Any, server: str, shoot: Any
) -> None:
    key, merchant_row = shop(server)
    page = open_page(server, "/").page
    sign_in(page, key)
    page.locator("[data-test=tab-stats]").click()
    page.locator("[data-test=chart-orders]").wait_for()
    customer = open_page(server, f"/market?merchant={merchant_row['npub']}", "phone").page
    place_order(customer)
    [paid] = orders_of(server, key, 1)
    fake_pay(server, paid["bolt11"])
    page.locator("[data-test=tile-paid]").get_by_text("1", exact=True).wait_for(
        timeout=LIVE_TIMEOUT
    )
    assert page.locator("[data-test=chart-orders] rect").count() >= 4
    assert page.locator("[data-test=tile-share]").inner_text().endswith("100 %")
    shoot(page, "console-02-sales-charts")

    # A second order paid twice, its new invoice and the one that invoice superseded: a
    # refund is needed (a cancelled order's invoice can no longer be paid: it is cancelled).
    place_order(customer)
    second = next(o for o in orders_of(server, key, 2) if o["id"] != paid["id"])
    reissued = api(server, key, "PUT", "/order/reissue", {"id": second["id"]})
    fake_pay(server, reissued["bolt11"])
    fake_pay(server, second["bolt11"])
    page.locator("[data-test=bell-count]").get_by_text("1").wait_for(timeout=LIVE_TIMEOUT)
    page.locator("[data-test=bell]").click()
    page.locator("[data-test=notification-refund_needed]").wait_for()
    page.wait_for_timeout(500)  # the menu's opening transition, for the screenshot only
    shoot(page, "console-03-notifications")
    page.locator("[data-test=mark-all-read]").click()
    page.locator("[data-test=bell-count]").wait_for(state="detached")
    page.keyboard.press("Escape")

    page.locator("[data-test=tab-orders]").click()
    with page.expect_download() as waiting:
        page.locator("[data-test=download-orders]").click()
    download = waiting.value
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert sorted(row["id"] for row in rows) == sorted([paid["id"], second["id"]])
    assert {row["status"] for row in rows} == {"paid", "refund_needed"}
    assert download.suggested_filename.startswith("orders-")
    shoot(page, "console-04-orders-download")


def test_the_checklist_walks_a_new_shop_to_its_first_publish_and_goes_away(
    open_page: Any, server: str, shoot: Any
) -> None:
    key = account(server)
    page = open_page(server, "/", "phone").page
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    checklist = page.locator("[data-test=checklist]")
    checklist.wait_for()
    assert "5 steps to go" in checklist.inner_text()
    shoot(page, "console-05-checklist-new-shop-phone")
    api(server, key, "POST", "/merchant", {"config": {"name": "Bean Counter"}})
    page.reload()
    page.locator("[data-test=step-stall]").get_by_text("Add a stall").wait_for()
    zone = api(server, key, "GET", "/zone")[0]
    stall = api(server, key, "POST", "/stall", {"name": "Coffee", "shipping_zones": [zone["id"]]})
    product = {"stall_id": stall["id"], "name": "Coffee beans", "price": 1000, "quantity": 5}
    api(server, key, "POST", "/product", product)
    checklist.wait_for(state="detached", timeout=LIVE_TIMEOUT)  # published: all done
    shoot(page, "console-06-checklist-done-phone")


def test_the_api_docs_load_nothing_from_another_host(
    open_page: Any, server: str, shoot: Any
) -> None:
    docs = open_page(server, "/docs")
    docs.page.locator(".swagger-ui .info .title").get_by_text("nostrbazaar").wait_for()
    docs.page.locator(".opblock-tag", has_text="jobs").first.wait_for()
    shoot(docs.page, "console-07-api-docs")
    redoc = open_page(server, "/redoc")
    redoc.page.get_by_text("nostrbazaar").first.wait_for()
    redoc.page.locator("h1, h2").first.wait_for()
    # Redoc runs its search in a worker made from a blob of this page: local, not a host.
    elsewhere = [
        url for url in docs.foreign + redoc.foreign if not url.startswith(f"blob:{server}/")
    ]
    assert elsewhere == []
    assert docs.errors == [] and redoc.errors == []
