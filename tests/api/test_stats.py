"""`GET /stats?days=N`: per day placed, paid, expired, refused and revenue; top products;
paid share; median time to payment. `GET /setup`: the first-run checklist. And /docs and
/redoc, which load nothing from another host."""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import UTC, datetime

from nostrbazaar.crud.invoices import InvoiceRef
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import expire_invoice, receive_payment

DAY = 86_400


async def place(engine, shop, product, order_id, created_at, quantity=1) -> str:
    items = [{"product_id": product["id"], "quantity": quantity}]
    content = json.dumps({"id": order_id, "type": 0, "items": items, "address": "1 Tea Street",
                          "shipping_id": product["config"]["shipping"][0]["id"]})  # fmt: skip
    merchant = await engine.merchants.get(shop.merchant["id"])
    customer = PrivateKey.generate().public_key
    incoming = Incoming(
        merchant, None, secrets.token_hex(32), customer, False, "nip04", created_at, content
    )
    verdict = await place_order(engine, incoming, parse_message(content))
    assert verdict.verdict in ("processed", "rejected"), verdict
    return verdict.verdict


async def test_the_figures_of_the_last_days_count_each_kind_of_order_per_day(client, engine, alice):
    stall = await alice.stall()
    tea = await alice.product(stall, name="Sencha", price="100", quantity=100)
    cake = await alice.product(stall, name="Cake", price="50", quantity=100)
    now = int(time.time())
    for product, order_id, age, quantity in (
        (tea, "paid-1", 600, 3), (cake, "paid-2", 300, 1), (tea, "unpaid", 100, 1),
        (tea, "old", 3 * DAY, 1),
    ):  # fmt: skip
        assert await place(engine, alice, product, order_id, now - age, quantity) == "processed"
    assert await place(engine, alice, {**tea, "id": "gone"}, "refused", now - 50) == "rejected"
    for order_id in ("paid-1", "paid-2"):
        order = (await client.get(f"/api/v1/order/{order_id}", headers=alice.reader)).json()
        await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
    ref = await engine.db.fetchone("SELECT * FROM invoices WHERE order_id = 'old'")
    await expire_invoice(engine, InvoiceRef(
        ref["payment_hash"], ref["merchant_id"], "old", ref["amount_msat"], ref["expires_at"],
        "current",
    ))  # fmt: skip

    response = await client.get("/api/v1/stats?days=7", headers=alice.reader)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert len(stats["per_day"]) == 7
    today = stats["per_day"][-1]
    assert today["date"] == datetime.fromtimestamp(now, UTC).date().isoformat()
    assert (today["placed"], today["paid"], today["refused"], today["expired"]) == (3, 2, 1, 1)
    totals = [
        (await client.get(f"/api/v1/order/{o}", headers=alice.reader)).json()["total_msat"]
        for o in ("paid-1", "paid-2")
    ]
    assert today["revenue_msat"] == sum(totals) and today["revenue_sat"] == sum(totals) // 1000
    assert stats["per_day"][-4]["placed"] == 1  # "old", three days ago
    assert stats["totals"]["placed"] == 4 and stats["totals"]["paid"] == 2
    assert [(p["name"], p["quantity"]) for p in stats["top_products"]] == [
        ("Sencha", 3),
        ("Cake", 1),
    ]
    assert stats["paid_share"] == 0.5
    assert stats["median_seconds_to_payment"] is not None
    assert 300 <= stats["median_seconds_to_payment"] <= 600 + 60


async def test_stats_need_a_key_and_a_sensible_window(client, alice):
    assert (await client.get("/api/v1/stats")).status_code == 401
    for query in ("days=0", "days=367", "tz_offset=9999"):
        response = await client.get(f"/api/v1/stats?{query}", headers=alice.reader)
        assert response.status_code == 422, query
    empty = (await client.get("/api/v1/stats?days=1", headers=alice.reader)).json()
    assert empty["paid_share"] is None and empty["median_seconds_to_payment"] is None
    assert empty["top_products"] == [] and empty["totals"]["placed"] == 0


async def test_the_checklist_follows_the_setup_step_by_step(client, runtime, alice):
    async def steps() -> dict[str, bool]:
        response = await client.get("/api/v1/setup", headers=alice.reader)
        assert response.status_code == 200
        return {step["key"]: step["done"] for step in response.json()["steps"]}

    # a new merchant has its keys and the "Online" zone LNbits gives every merchant
    assert await steps() == {
        "keys": True, "zone": True, "stall": False, "product": False, "publish": False
    }  # fmt: skip
    zone = await alice.zone()
    stall = await alice.stall(zone)
    product = await alice.product(stall)
    done = await steps()
    assert done["stall"] and done["product"] and not done["publish"]
    async with runtime.db.transaction() as conn:  # a relay acknowledged the product
        await conn.execute(
            "UPDATE outbox SET status = 'sent' WHERE event_id = ?", (product["event_id"],)
        )
    response = (await client.get("/api/v1/setup", headers=alice.reader)).json()
    assert response["done"] is True
    assert (await client.get("/api/v1/setup")).status_code == 401


_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_the_api_docs_load_their_scripts_and_styles_from_this_app_only(client):
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        html = response.text
        assert "http://" not in html and "https://" not in html and "//" + "cdn" not in html
        assets = _URL.findall(html)
        assert assets, page
        for url in assets:
            assert url.startswith("/") and not url.startswith("//"), url
            assert (await client.get(url)).status_code == 200, url
    assert "validatorUrl" in (await client.get("/docs")).text  # the validator badge is off
