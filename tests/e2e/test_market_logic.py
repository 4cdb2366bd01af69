"""The market page's own logic, run in the browser: totals, invoices, orders from DMs."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

MERCHANT = "a" * 64
ME = "b" * 64
STRANGER = "c" * 64


@pytest.fixture
def market(open_page: Any, module_server: str) -> Any:
    page = open_page(module_server, "/market").page
    page.locator("[data-test=market]").wait_for()
    return page


def message(sender: str, peer: str, at: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{sender[:4]}-{at}-{body['type']}",
        "from": sender,
        "peer": peer,
        "incoming": sender != ME,
        "text": json.dumps(body),
        "created_at": at,
        "transport": "nip17",
    }


def build(market: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = market.evaluate(
        "(messages) => NB.market.buildOrders(messages)", messages
    )
    return result


def test_totals_add_the_zone_cost_and_each_products_shipping_per_unit(market: Any) -> None:
    totals = market.evaluate(
        """() => {
          const stall = { currency: "sat", shipping: [{ id: "z", cost: 100 }] };
          const beans = { price: 1000, shipping: [{ id: "z", cost: 5 }] };
          const cups = { price: 250, shipping: [] };
          const lines = [{ product: beans, quantity: 2 }, { product: cups, quantity: 3 }];
          return NB.market.totals(stall, lines, "z");
        }"""
    )
    assert totals == {"products": 2750, "shipping": 110, "total": 2860, "currency": "sat"}


@pytest.mark.parametrize(
    ("invoice", "sats"),
    [("lnbcrt21u1pxyz", 2100), ("lnbc2500n1pxyz", 250), ("lnbc1m1pxyz", 100_000), ("x", None)],
)
def test_the_invoice_amount_is_read_from_the_bolt11_prefix(
    market: Any, invoice: str, sats: int | None
) -> None:
    assert market.evaluate("(text) => NB.market.bolt11Sats(text)", invoice) == sats


def test_an_order_follows_the_merchants_messages_in_time_order(market: Any) -> None:
    order = {"id": "o1", "type": 0, "items": [{"product_id": "p", "quantity": 1}]}
    invoice = {"id": "o1", "type": 1, "payment_options": [{"type": "ln", "link": "lnbc10u1p"}]}
    paid = {"id": "o1", "type": 2, "paid": True, "shipped": False, "message": "thanks"}
    messages = [
        message(MERCHANT, MERCHANT, 30, paid),
        message(ME, MERCHANT, 10, order),
        message(MERCHANT, MERCHANT, 20, invoice),
    ]
    orders = build(market, messages)
    assert orders["o1"]["status"] == "paid"
    assert orders["o1"]["sats"] == 1000


def test_a_status_from_anyone_but_the_merchant_changes_nothing(market: Any) -> None:
    order = {"id": "o2", "type": 0, "items": []}
    forged = {"id": "o2", "type": 2, "paid": True, "shipped": True, "message": "free stuff"}
    orders = build(
        market, [message(ME, MERCHANT, 10, order), message(STRANGER, STRANGER, 20, forged)]
    )
    assert orders["o2"]["status"] == "sent"


def test_a_payment_request_without_options_is_a_rejection_with_its_reason(market: Any) -> None:
    order = {"id": "o3", "type": 0, "items": []}
    refusal = {"id": "o3", "type": 1, "message": "not enough stock", "payment_options": []}
    orders = build(
        market, [message(ME, MERCHANT, 10, order), message(MERCHANT, MERCHANT, 11, refusal)]
    )
    assert (orders["o3"]["status"], orders["o3"]["reason"]) == ("rejected", "not enough stock")


def test_an_expiry_is_read_from_the_status_field(market: Any) -> None:
    order = {"id": "o4", "type": 0, "items": []}
    expired = {"id": "o4", "type": 2, "paid": False, "shipped": False, "status": "expired"}
    orders = build(
        market, [message(ME, MERCHANT, 10, order), message(MERCHANT, MERCHANT, 11, expired)]
    )
    assert orders["o4"]["status"] == "expired"
