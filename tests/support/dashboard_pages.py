"""Browser-test helpers for a merchant's first day: a shop made through the API, the
dashboard signed in, orders placed on /market, and screenshots for the README at the
desktop and phone widths (the same page, resized, so both show the same state)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

LIVE_TIMEOUT = 30_000  # relay round trips: order -> invoice -> payment -> paid DM
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
# Transitions done (a dialog fading in, a page sliding): spinners run forever, so finite only.
_SETTLED = """() => document.getAnimations().every((animation) =>
  animation.playState !== "running" ||
  animation.effect.getComputedTiming().iterations === Infinity)"""
_NO_TOASTS = ".q-notifications { display: none !important; }"  # they hide what is shown


def api(server: str, key: str, method: str, path: str, body: Any = None) -> Any:
    """One API call that must succeed; its JSON answer (None when empty)."""
    response = httpx.request(
        method, f"{server}/api/v1{path}", json=body, headers={"X-Api-Key": key}, timeout=20
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def shop(server: str, quantity: int = 5, **product: Any) -> tuple[str, dict[str, Any]]:
    """A merchant selling coffee beans in one stall; (admin key, merchant)."""
    key = httpx.post(f"{server}/api/v1/account", json={"name": "shop"}).json()["adminkey"]
    merchant = api(server, key, "POST", "/merchant", {"config": {"name": "Bean Counter"}})
    zone = api(server, key, "POST", "/zone", {"name": "Europe", "cost": 100, "countries": ["EU"]})
    stall_body = {"name": "Coffee stall", "shipping_zones": [zone["id"]]}
    stall = api(server, key, "POST", "/stall", stall_body)
    body = {"stall_id": stall["id"], "name": "Coffee beans", "price": 1000, "quantity": quantity}
    api(server, key, "POST", "/product", {**body, **product})
    return key, merchant


def sign_in(page: Any, key: str) -> None:
    """Sign in with the admin key and wait for the live connection."""
    page.locator("input[data-test=admin-key]").fill(key)
    page.locator("[data-test=sign-in]").click()
    page.locator("[data-test=live-status]").get_by_text("Live").wait_for(timeout=LIVE_TIMEOUT)


def order_on_market(
    page: Any, quantity: int = 1, name: str = "Alice", expect: str = "Waiting for payment"
) -> None:
    """The customer orders coffee on /market and waits for the order's state `expect`
    (the merchant's answer: "Waiting for payment", or "Rejected" with its reason)."""
    page.locator("[data-test=tab-market]").click()
    card = page.locator("[data-test='product-Coffee beans']")
    card.wait_for(timeout=LIVE_TIMEOUT)
    card.locator("[data-test=add-to-cart]").click()
    page.locator("[data-test=tab-cart]").click()
    page.locator("input[data-test=cart-quantity]").fill(str(quantity))
    page.locator("[data-test=checkout]").click()
    page.locator("input[data-test=checkout-name]").fill(name)
    page.locator("textarea[data-test=checkout-address]").fill("1 Main Street, Lisbon")
    page.locator("[data-test=place-order]").click()
    state = page.locator("[data-test=order-state]").get_by_text(expect)
    state.wait_for(timeout=LIVE_TIMEOUT)


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
    """Pay an invoice with the fake wallet."""
    response = httpx.post(f"{server}/api/v1/fakewallet/pay", json={"bolt11": bolt11}, timeout=20)
    assert response.status_code == 200, response.text


def resize(page: Any, width_name: str) -> None:
    """Resize the page and wait until Quasar's screen plugin has seen the new width."""
    width, height = WIDTHS[width_name]
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(
        "width => document.querySelector('#app').__vue_app__"
        ".config.globalProperties.$q.screen.width === width",
        arg=width,
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_function(_SETTLED)


def snap(page: Any, name: str, widths: tuple[str, ...] = ("desktop", "phone")) -> list[Path]:
    """Screenshots of the page as it is, at each width, as docs/screenshots/NAME-WIDTH.png;
    the page is left at the first width."""
    DOCS.mkdir(parents=True, exist_ok=True)
    paths = []
    for width in widths:
        resize(page, width)
        path = DOCS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True, style=_NO_TOASTS)
        paths.append(path)
    resize(page, widths[0])
    return paths


def record_toasts(page: Any) -> None:
    """Keep the text of every toast the page shows in `window.nbToasts`."""
    page.evaluate(
        """() => {
          window.nbToasts = [];
          new MutationObserver((changes) => {
            for (const change of changes)
              for (const node of change.addedNodes)
                if (node.nodeType === 1) {
                  const toast = node.matches('.q-notification')
                    ? node : node.querySelector('.q-notification');
                  if (toast) window.nbToasts.push(toast.textContent);
                }
          }).observe(document.body, { childList: true, subtree: true });
        }"""
    )


def toasts(page: Any) -> list[str]:
    """The toasts shown since `record_toasts`."""
    return list(page.evaluate("() => window.nbToasts"))
