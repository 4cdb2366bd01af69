"""A page of restored history: each event verified before use and recorded once, however
often it comes in the page, and a forged copy kept apart as rejected."""

from __future__ import annotations

from pathlib import Path

from nostrbazaar.engine.restore import restore_events
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import Customer, make_shop, order_content

MERCHANT = PrivateKey.generate().hex


async def test_a_page_with_an_order_twice_and_a_forged_copy_places_it_once(
    tmp_path: Path, database_url: str | None
) -> None:
    shop = await make_shop(tmp_path / "shop", MERCHANT, database_url=database_url)
    try:
        customer = Customer()
        order = customer.nip04(shop.merchant.public_key, order_content("o-1"))
        forged = {**order, "content": order["content"][:-4] + "AAA="}
        summary = await restore_events(shop.deps, shop.merchant, [order, forged, order])
        rows = await shop.deps.db.fetchall("SELECT id, verdict, reason FROM inbox")
        verdicts = {row["id"]: (row["verdict"], row["reason"]) for row in rows}
        assert verdicts.pop(order["id"])[0] == "processed"
        [(rejected_id, (verdict, reason))] = verdicts.items()
        assert rejected_id.startswith("invalid:") and verdict == "rejected"
        assert "id does not match" in reason
        assert (await shop.order("o-1")).status == "awaiting_payment"
        assert (summary.events_scanned, summary.events_new, summary.errors) == (3, 2, 1)
        assert summary.orders_restored == 1
    finally:
        await shop.close()
