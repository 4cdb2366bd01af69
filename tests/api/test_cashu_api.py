"""The ecash API: the summary, the merchant's trusted mints, withdrawals refused with a
reason when nothing is held, keys required; and an order's payment method and dialect as
the API shows them (a Conduit order, `apps/market/src/routes/checkout.tsx`'s shape)."""

from __future__ import annotations

import httpx
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.services.deps import Deps
from nostrbazaar.services.payments import receive_payment
from support.market_buyers import ConduitBuyer

from .conftest import Shop


async def test_the_summary_lists_trusted_mints_and_what_is_held(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    empty = (await client.get("/api/v1/cashu", headers=alice.reader)).json()
    assert (empty["total_sats"], empty["balances"], empty["trusted_mints"]) == (0, [], [])
    body = {"mints": ["https://mint.example/", " https://mint.example", "http://127.0.0.1:3338"]}
    saved = await client.put("/api/v1/cashu/mints", json=body, headers=alice.admin)
    assert saved.status_code == 200
    assert saved.json()["merchant_mints"] == ["https://mint.example", "http://127.0.0.1:3338"]
    assert saved.json()["trusted_mints"] == ["https://mint.example", "http://127.0.0.1:3338"]


async def test_bad_mints_and_empty_withdrawals_are_refused_with_the_reason(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    bad = await client.put("/api/v1/cashu/mints", json={"mints": ["ftp://x"]}, headers=alice.admin)
    assert bad.status_code == 400 and "not an http(s) mint URL" in bad.json()["detail"]
    body = {"mint": "https://mint.example"}
    none = await client.post("/api/v1/cashu/export", json=body, headers=alice.admin)
    assert none.status_code == 404 and "no ecash of mint" in none.json()["detail"]


async def test_ecash_needs_the_keys(client: httpx.AsyncClient, alice: Shop) -> None:
    assert (await client.get("/api/v1/cashu")).status_code == 401
    body = {"mint": "https://mint.example"}
    reader = await client.post("/api/v1/cashu/export", json=body, headers=alice.reader)
    assert reader.status_code == 401


async def test_an_order_shows_its_dialect_and_how_it_was_paid(
    client: httpx.AsyncClient, alice: Shop, engine: Deps
) -> None:
    product = await alice.product()
    pk, zone_id = alice.merchant["public_key"], product["config"]["shipping"][0]["id"]
    buyer = ConduitBuyer()
    tags, content = buyer.order(pk, "c-api", [(product["id"], 1)], 513, shipping=zone_id)
    merchant = await engine.merchants.get(alice.merchant["id"])
    verdict = await ingest_event(engine, merchant, buyer.wrapped(pk, 16, tags, content))
    assert verdict.verdict == "processed", verdict
    order = (await client.get("/api/v1/order/c-api", headers=alice.reader)).json()
    assert (order["dialect"], order["payment_method"]) == ("conduit", None)
    await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
    paid = (await client.get("/api/v1/order/c-api", headers=alice.reader)).json()
    assert (paid["status"], paid["payment_method"]) == ("paid", "lightning invoice")
