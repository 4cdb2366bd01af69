"""One contract, every backend: fake, a real LNbits 1.6.2, and NWC over a real relay.

Each backend comes with a harness that can pay its invoices the way a Lightning
payer would: the fake wallet's own `pay`, an internal payment from another
LNbits wallet, or the NIP-47 test service settling and notifying.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bolt11
import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.tests.support.lnbits_server import LNbitsServer, acquire_shared, release_shared
from nostrbazaar.tests.support.nwc_service import NWCService
from nostrbazaar.wallets.base import (
    InvoiceRequest,
    InvoiceState,
    NewInvoice,
    Settlement,
    Wallet,
    WalletError,
)
from nostrbazaar.wallets.fake import FakeWallet
from nostrbazaar.wallets.lnbits import LNbitsWallet
from nostrbazaar.wallets.nwc import NWCWallet
from nostrbazaar.wallets.recheck import recheck_invoices

STREAM_WAIT = 30.0  # a bound on waiting, never an assertion about speed


@dataclass
class Harness:
    """A started wallet, a way to pay its invoices, and a restart with a payment between."""

    wallet: Wallet
    pay: Callable[[str], Awaitable[object]]
    pay_while_stopped: Callable[[str], Awaitable[Wallet]]


@pytest.fixture(scope="session")
def lnbits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LNbitsServer]:
    """One real LNbits for the session (installed into .cache/lnbits on first use)."""
    server = acquire_shared(tmp_path_factory.mktemp("lnbits"))
    try:
        yield server
    finally:
        release_shared()


async def _fake(tmp_path: Path) -> AsyncIterator[Harness]:
    wallet = FakeWallet(tmp_path / "fake")
    await wallet.start()
    started = [wallet]

    async def pay_while_stopped(invoice: str) -> Wallet:
        await wallet.stop()
        payer = FakeWallet(tmp_path / "fake")  # e.g. another process on the same data dir
        await payer.start()
        await payer.pay(invoice)
        await payer.stop()
        started.append(FakeWallet(tmp_path / "fake"))
        await started[-1].start()
        return started[-1]

    yield Harness(wallet, wallet.pay, pay_while_stopped)
    for one in started:
        await one.stop()


async def _lnbits(server: LNbitsServer) -> AsyncIterator[Harness]:
    assert server.merchant is not None
    key = server.merchant.inkey
    started: list[Wallet] = [LNbitsWallet(server.url, key, poll_interval=1.0)]
    await started[0].start()

    async def pay(invoice: str) -> object:
        return await asyncio.to_thread(server.pay, invoice)

    async def pay_while_stopped(invoice: str) -> Wallet:
        await started[0].stop()
        await pay(invoice)
        started.append(LNbitsWallet(server.url, key, poll_interval=1.0))
        await started[-1].start()
        return started[-1]

    yield Harness(started[0], pay, pay_while_stopped)
    for one in started:
        await one.stop()


async def _nwc(tmp_path: Path) -> AsyncIterator[Harness]:
    relay = EmbeddedRelay()
    url = await relay.start()
    service = NWCService([url], tmp_path / "nwc-service")
    await service.start()
    started: list[Wallet] = [NWCWallet(service.uri, poll_interval=1.0)]
    await started[0].start()

    async def pay_while_stopped(invoice: str) -> Wallet:
        await started[0].stop()
        await service.pay(invoice)
        started.append(NWCWallet(service.uri, poll_interval=1.0))
        await started[-1].start()
        return started[-1]

    yield Harness(started[0], service.pay, pay_while_stopped)
    for one in started:
        await one.stop()
    await service.stop()
    await relay.stop()


@pytest.fixture(
    params=[
        "fake",
        pytest.param("lnbits", marks=[pytest.mark.lnbits, pytest.mark.timeout(900)]),
        "nwc",
    ]
)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "fake":
        backend = _fake(tmp_path)
    elif request.param == "lnbits":
        backend = _lnbits(request.getfixturevalue("lnbits_server"))
    else:
        backend = _nwc(tmp_path)
    async for ready in backend:
        yield ready


async def _next(stream: AsyncIterator[Settlement]) -> Settlement:
    return await asyncio.wait_for(anext(stream), STREAM_WAIT)


async def test_created_invoice_is_a_real_bolt11_with_amount_hash_and_expiry(
    harness: Harness,
) -> None:
    new = await harness.wallet.create_invoice(21_000, "order 7: two mugs", 900, {"order": "7"})
    decoded = bolt11.decode(new.bolt11)
    assert decoded.amount_msat == new.amount_msat == 21_000
    assert decoded.payment_hash == new.payment_hash
    assert decoded.description == "order 7: two mugs"
    assert decoded.expiry == 900
    assert abs(decoded.date + decoded.expiry - new.expires_at) <= 1  # whole-second clocks


async def test_an_invoice_for_a_description_hash_carries_it_instead_of_a_description(
    harness: Harness,
) -> None:
    metadata = '[["text/plain", "Payment to a lightning address"]]'
    digest = hashlib.sha256(metadata.encode()).digest()
    new = await harness.wallet.create_invoice(13_000, metadata, 600, None, digest)
    decoded = bolt11.decode(new.bolt11)
    assert decoded.description_hash == digest.hex()  # LUD-06's `h`, what payers check
    assert decoded.description is None
    assert (decoded.amount_msat, decoded.payment_hash) == (13_000, new.payment_hash)


async def test_an_amount_that_is_not_whole_sats_is_never_under_charged(harness: Harness) -> None:
    new = await harness.wallet.create_invoice(1_500, "odd amount", 600)
    assert new.amount_msat >= 1_500
    assert bolt11.decode(new.bolt11).amount_msat == new.amount_msat


async def test_a_batch_gives_each_request_its_invoice_in_order_and_each_one_settles(
    harness: Harness,
) -> None:
    stream = harness.wallet.settlements()
    outcomes = await harness.wallet.create_invoices(
        [
            InvoiceRequest(2_000, "batch 1", 600, {"order": "b1"}),
            InvoiceRequest(0, "refused", 600),
            InvoiceRequest(3_000, "batch 3", 600, {"order": "b3"}),
        ]
    )
    first, refused, third = outcomes
    assert isinstance(refused, WalletError)
    assert isinstance(first, NewInvoice) and isinstance(third, NewInvoice)
    for new, amount, memo in ((first, 2_000, "batch 1"), (third, 3_000, "batch 3")):
        decoded = bolt11.decode(new.bolt11)
        assert (decoded.payment_hash, decoded.amount_msat, decoded.description) == (
            new.payment_hash,
            amount,
            memo,
        )
    for new, order in ((third, "b3"), (first, "b1")):
        await harness.pay(new.bolt11)
        seen = await _next(stream)
        assert (seen.payment_hash, seen.extra.get("order")) == (new.payment_hash, order)
        status = await harness.wallet.get_invoice_status(new.payment_hash)
        assert (status.state, status.amount_msat) == (InvoiceState.SETTLED, new.amount_msat)


async def test_a_new_invoice_looks_up_as_pending_with_its_amount(harness: Harness) -> None:
    new = await harness.wallet.create_invoice(5_000, "pending", 600)
    status = await harness.wallet.get_invoice_status(new.payment_hash)
    assert (status.payment_hash, status.state, status.amount_msat) == (
        new.payment_hash,
        InvoiceState.PENDING,
        5_000,
    )
    assert status.settled_at is None


async def test_a_paid_invoice_appears_on_the_stream_and_looks_up_settled(
    harness: Harness,
) -> None:
    stream = harness.wallet.settlements()
    new = await harness.wallet.create_invoice(8_000, "pay me", 600, {"order": "8"})
    await harness.pay(new.bolt11)
    seen = await _next(stream)
    assert (seen.payment_hash, seen.amount_msat) == (new.payment_hash, 8_000)
    assert seen.extra.get("order") == "8"
    status = await harness.wallet.get_invoice_status(new.payment_hash)
    assert (status.state, status.amount_msat) == (InvoiceState.SETTLED, 8_000)
    assert isinstance(status.settled_at, int)


async def test_a_settlement_seen_twice_is_still_one_payment_hash(harness: Harness) -> None:
    stream = harness.wallet.settlements()
    new = await harness.wallet.create_invoice(3_000, "twice", 600)
    await harness.pay(new.bolt11)
    reports = [await _next(stream)]
    for _ in range(2):
        status = await harness.wallet.get_invoice_status(new.payment_hash)
        assert status.state is InvoiceState.SETTLED
        reports.append(Settlement(status.payment_hash, status.amount_msat or 0, 0))
    assert {r.payment_hash for r in reports} == {new.payment_hash}
    assert {r.amount_msat for r in reports} == {3_000}


async def test_an_unpaid_invoice_expires(harness: Harness) -> None:
    new = await harness.wallet.create_invoice(2_000, "too late", 1)
    state = InvoiceState.PENDING
    for _ in range(80):  # bounded: up to ~20 s, normally ~2 s
        state = (await harness.wallet.get_invoice_status(new.payment_hash)).state
        if state is not InvoiceState.PENDING:
            break
        await asyncio.sleep(0.25)
    assert state is InvoiceState.EXPIRED


async def test_an_unknown_payment_hash_is_unknown(harness: Harness) -> None:
    status = await harness.wallet.get_invoice_status(os.urandom(32).hex())
    assert status.state is InvoiceState.UNKNOWN


async def test_cancel_either_cancels_or_says_it_cannot(harness: Harness) -> None:
    new = await harness.wallet.create_invoice(4_000, "maybe cancel", 600)
    cancelled = await harness.wallet.cancel_invoice(new.payment_hash)
    state = (await harness.wallet.get_invoice_status(new.payment_hash)).state
    assert state is (InvoiceState.CANCELLED if cancelled else InvoiceState.PENDING)


async def test_a_payment_made_while_stopped_is_found_by_the_start_up_recheck(
    harness: Harness,
) -> None:
    paid = await harness.wallet.create_invoice(6_000, "paid while down", 600)
    unpaid = await harness.wallet.create_invoice(7_000, "still open", 600)
    fresh = await harness.pay_while_stopped(paid.bolt11)
    result = await recheck_invoices(fresh, [paid.payment_hash, unpaid.payment_hash])
    assert result.failed == {}
    assert result.statuses[unpaid.payment_hash].state is InvoiceState.PENDING
    assert [(s.payment_hash, s.amount_msat) for s in result.settled] == [(paid.payment_hash, 6_000)]


async def test_health_names_the_backend_and_is_ok(harness: Harness) -> None:
    health = await harness.wallet.health()
    assert health["backend"] == harness.wallet.name
    assert health["ok"] is True, health
