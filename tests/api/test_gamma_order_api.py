"""A Gamma market order through the API: its dialect shows, and shipping it with a tracking
number and carrier tells the buyer in the spec's type 4 fields."""

from __future__ import annotations

import json
from typing import Any

import httpx
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.services.deps import Deps
from nostrbazaar.services.payments import receive_payment
from support.gamma_buyer import GammaBuyer, value

from .conftest import Shop


async def gamma_order(engine: Deps, shop: Shop, buyer: GammaBuyer, product: dict[str, Any]) -> str:
    """A buyer's gift-wrapped type 1 for one unit (12.50 + 1 + 500 sat: 513 sat, rounded)."""
    pk = shop.merchant["public_key"]
    zone_id = product["config"]["shipping"][0]["id"]
    tags = buyer.spec_order(pk, "g-api", [(product["id"], 1)], 513, shipping=zone_id)
    merchant = await engine.merchants.get(shop.merchant["id"])
    verdict = await ingest_event(engine, merchant, buyer.wrapped(pk, 16, tags))
    assert verdict.verdict == "processed", verdict
    return "g-api"


async def test_a_gamma_order_shows_its_dialect_and_ships_with_tracking_and_carrier(
    client: httpx.AsyncClient, alice: Shop, engine: Deps, runtime: Runtime
) -> None:
    buyer = GammaBuyer()
    order_id = await gamma_order(engine, alice, buyer, await alice.product())
    order = (await client.get(f"/api/v1/order/{order_id}", headers=alice.reader)).json()
    assert (order["dialect"], order["transport"], order["total_msat"]) == (
        "gamma",
        "nip17",
        513_500,
    )
    listed = (await client.get("/api/v1/order", headers=alice.reader)).json()
    assert [o["dialect"] for o in listed] == ["gamma"]
    await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
    body = {"shipped": True, "message": "posted", "tracking": "RR123PT", "carrier": "CTT"}
    shipped = await client.patch(f"/api/v1/order/{order_id}", json=body, headers=alice.admin)
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    rows = await runtime.db.fetchall("SELECT event FROM outbox WHERE order_id = ?", (order_id,))
    rumors = [r for r in (buyer.read(json.loads(row["event"])) for row in rows) if r]
    last = max(rumors, key=lambda r: r["created_at"])
    assert [value(last, n) for n in ("type", "status", "tracking", "carrier")] == [
        "4", "shipped", "RR123PT", "CTT",
    ]  # fmt: skip


async def test_tracking_and_carrier_are_bounded_like_any_short_text(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    body = {"shipped": True, "tracking": "x" * 101}
    response = await client.patch("/api/v1/order/nope", json=body, headers=alice.admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "tracking"]
