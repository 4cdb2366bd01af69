"""A buyer on nostr-tools (JavaScript, an independent implementation) sends a Gamma market
order, gift-wrapped with nostr-tools' NIP-59, and reads our answers with it: the payment
request, then the confirmation. The order is shaped like the spec's example
(`../shared/specs/gamma/market-spec.md`, "Order Creation")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.keys import PrivateKey
from support.node_peer import run_peer
from support.orders_fixtures import Shop, make_shop, pay

pytestmark = pytest.mark.interop


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    opened = await make_shop(tmp_path / "shop")
    yield opened
    await opened.close()


def tag(rumor: dict[str, Any], name: str) -> list[str]:
    return next(t for t in rumor["tags"] if t[0] == name)


async def answers(shop: Shop, buyer: PrivateKey) -> list[dict[str, Any]]:
    """Our gift wraps to the buyer, opened by nostr-tools, oldest first."""
    wraps = [
        row["event"]
        for row in await shop.outbox()
        if ["p", buyer.public_key] in row["event"]["tags"]
    ]
    opened = run_peer(*({"op": "nip59_unwrap", "wrap": w, "secret": buyer.hex} for w in wraps))
    assert all("error" not in r for r in opened), opened
    return sorted(opened, key=lambda r: r["created_at"])


async def test_a_nostr_tools_buyer_orders_and_reads_the_payment_request_and_confirmation(
    shop: Shop,
) -> None:
    buyer, pk = PrivateKey.generate(), shop.merchant.public_key
    tags = [["p", pk], ["subject", "order-info"], ["type", "1"], ["order", "js-1"],
            ["amount", "209"], ["item", f"30402:{pk}:p1", "2"], ["shipping", f"30406:{pk}:zone-1"],
            ["address", "1 Road, Lisbon"], ["email", "js@example.com"]]  # fmt: skip
    (wrap,) = run_peer({"op": "nip59_wrap", "kind": 16, "content": "Order notes", "tags": tags,
                        "secret": buyer.hex, "recipient": pk})  # fmt: skip
    verdict = await ingest_event(shop.deps, shop.merchant, wrap)
    assert (verdict.verdict, verdict.order_id) == ("processed", "js-1")
    (request,) = await answers(shop, buyer)
    assert (request["kind"], request["pubkey"]) == (16, pk)
    assert [tag(request, n)[1] for n in ("type", "order", "amount")] == ["2", "js-1", "209"]
    bolt11 = tag(request, "payment")[2]
    assert tag(request, "payment") == ["payment", "lightning", bolt11]
    await pay(shop, bolt11)
    confirmed = (await answers(shop, buyer))[-1]
    assert [tag(confirmed, n)[1] for n in ("type", "status")] == ["3", "confirmed"]
    assert (await shop.order("js-1")).status == "paid"
