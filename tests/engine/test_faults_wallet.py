"""The wallet times out mid-invoice: the LNbits backend over real HTTP, pointed at a stand-in
on 127.0.0.1 that never answers `POST /api/v1/payments` (or trickles an answer that never
ends). What `services/intake.py` promises for `WalletUnavailable`: the invoice is asked for
before the order's transaction, so nothing is created (no order, no reservation, no
reply); the event stays `received`, with the reason, for the wallet retry loop; when the
wallet answers again the order is placed exactly once, with the invoice it then issued."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from nostrbazaar.engine.ingest import ingest_event, retry_waiting
from nostrbazaar.wallets.lnbits import LNbitsWallet
from support.faults import table_counts
from support.lnbits_standin import LNbitsStandIn
from support.orders_fixtures import Customer, Shop, order_content

TIMEOUT = 0.5  # the wallet's whole-request timeout here (10 s by default)


@pytest.fixture
async def lnbits() -> AsyncIterator[LNbitsStandIn]:
    standin = LNbitsStandIn()
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
async def wallet(lnbits: LNbitsStandIn) -> AsyncIterator[LNbitsWallet]:
    backend = LNbitsWallet(lnbits.url, "invoice-key", timeout=TIMEOUT, poll_interval=60)
    await backend.start()
    yield backend
    await backend.stop()


@pytest.mark.parametrize("hang", ["silent", "trickle"])
async def test_a_wallet_that_hangs_mid_invoice_creates_nothing_and_the_order_waits_for_it(
    shop: Shop, customer: Customer, lnbits: LNbitsStandIn, wallet: LNbitsWallet, hang: str
) -> None:
    now = [time.time()]
    deps = replace(shop.deps, wallet=wallet, clock=lambda: now[0])
    event = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    before = await table_counts(shop.db)
    lnbits.hanging = hang
    verdict = await asyncio.wait_for(ingest_event(deps, shop.merchant, event), 10)
    assert lnbits.asked == 1 and lnbits.minted == []
    assert verdict.verdict == "received"  # waiting for the wallet, not refused
    expected = f"did not answer POST /api/v1/payments within {TIMEOUT:g} s"
    assert verdict.reason is not None and expected in verdict.reason
    assert (await shop.verdicts())[event["id"]] == ("received", verdict.reason)
    assert await table_counts(shop.db) == before  # no order, reservation, invoice or reply
    assert await shop.stock() == 5
    assert await retry_waiting(deps, shop.merchant) == 0  # the loop waits 30 s first
    now[0] += 31
    assert await asyncio.wait_for(retry_waiting(deps, shop.merchant), 10) == 1  # still away
    assert lnbits.asked == 2 and await table_counts(shop.db) == before
    lnbits.hanging = None  # the wallet answers again
    assert await retry_waiting(deps, shop.merchant) == 1
    order = await shop.order("o-1")
    assert order.status == "awaiting_payment"
    assert [order.payment_hash] == lnbits.minted  # the one invoice it issued
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1]
    assert (await shop.verdicts())[event["id"]] == ("processed", None)
    assert await shop.stock() == 4
    assert await retry_waiting(deps, shop.merchant) == 0
    assert (await ingest_event(deps, shop.merchant, event)).verdict == "ignored"
    assert lnbits.asked == 3
