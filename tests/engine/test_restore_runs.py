"""Invariant 4 where a restore's runs must carry their book: the merchant's own messages
change the stock in the middle of a run of restored orders.

Live, a new customer's order holds the share of stock new customers may hold, is paid
(its units sold), and two more new customers order: the first fits the share of what is
left, the second does not. The merchant's refusal of the last never reached the relays,
so a restore decides that order itself. It places all three in one run
(`services/intake_batch.py`), applying the payment inside it: the last order must be
decided on the stock as the payment left it, and refused with the same reason.
"""

from __future__ import annotations

import time
from pathlib import Path

from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.engine.restore import restore_events
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import (
    Customer,
    current_bolt11,
    dm_history,
    make_shop,
    order_content,
    order_state,
    pay,
)

SHARE = 60  # new customers may hold 3 of 5 units, then 1 of the 2 left after a sale


async def test_a_payment_inside_a_restored_run_frees_the_share_as_it_did_live(
    tmp_path: Path, database_url: str | None, request: object
) -> None:
    secret = PrivateKey.generate().hex
    live = await make_shop(tmp_path / "live", secret, database_url=database_url,
                           new_customer_stock_share=SHARE)  # fmt: skip
    start = int(time.time()) - 600
    try:
        pubkey = live.merchant.public_key
        cat = Customer()
        orders = [(Customer(), "o-ann", 3), (Customer(), "o-bob", 1), (cat, "o-cat", 1)]
        for offset, (customer, order_id, units) in enumerate(orders):
            event = customer.nip04(pubkey, order_content(order_id, [("p1", units)]),
                                   created_at=start + offset)  # fmt: skip
            await ingest_event(live.deps, live.merchant, event)
            if order_id == "o-ann":
                await pay(live, await current_bolt11(live, "o-ann"))
        history = [e for e in await dm_history(live) if not _to(e, pubkey, cat.pubkey)]
        expected = await order_state(live)
    finally:
        await live.close()
    statuses = {row[0]: row[1] for row in expected["orders"]}
    assert statuses == {"o-ann": "paid", "o-bob": "awaiting_payment", "o-cat": "rejected"}
    restored_url = database_url and await _fresh_schema(request)
    shop = await make_shop(tmp_path / "restored", secret, wallet_dir=tmp_path / "live" / "wallet",
                           database_url=restored_url, new_customer_stock_share=SHARE)  # fmt: skip
    try:
        summary = await restore_events(shop.deps, shop.merchant, history)
        assert summary.orders_restored == 3
        assert await order_state(shop) == expected
    finally:
        await shop.close()


def _to(event: dict[str, object], merchant: str, customer: str) -> bool:
    """The merchant's message to `customer` (lost before it reached a relay)."""
    return event["pubkey"] == merchant and ["p", customer] in event["tags"]  # type: ignore[operator]


async def _fresh_schema(request: object) -> str:
    from support import pg

    return await pg.new_schema(request.getfixturevalue("pg_database"))  # type: ignore[attr-defined]
