"""Minting a batch on a backend that mints one invoice a call: order, isolation, the bound."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nostrbazaar.wallets.base import InvoiceRequest, NewInvoice, WalletError
from nostrbazaar.wallets.minting import MINT_CONCURRENCY, create_invoices_concurrently


class OneAtATimeWallet:
    """Mints invoice `n` for the n-th call (counting from 1); the calls in `refusals` raise
    what is given there. Calls yield to the loop a number of times that varies with the
    memo, so they finish in another order than they start."""

    name = "one-at-a-time"

    def __init__(self, refusals: dict[int, BaseException] | None = None) -> None:
        self.refusals = refusals or {}
        self.calls: list[tuple[Any, ...]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def create_invoice(
        self,
        amount_msat: int,
        memo: str,
        expiry_seconds: int,
        extra: dict[str, Any] | None = None,
        **hashed: bytes,
    ) -> NewInvoice:
        self.calls.append((amount_msat, memo, expiry_seconds, extra, hashed))
        number = len(self.calls)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(7 - len(memo) % 7):
                await asyncio.sleep(0)
            if number in self.refusals:
                raise self.refusals[number]
        finally:
            self.in_flight -= 1
        return NewInvoice(f"hash-{memo}", f"lnbcrt-{memo}", amount_msat, 1_000 + expiry_seconds)


def _requests(count: int) -> list[InvoiceRequest]:
    return [InvoiceRequest(1_000 * (i + 1), "x" * i, 600 + i, {"i": i}) for i in range(count)]


async def test_each_request_gets_its_own_invoice_in_the_order_asked() -> None:
    requests = _requests(20)
    outcomes = await create_invoices_concurrently(OneAtATimeWallet(), requests)
    assert outcomes == [
        NewInvoice(f"hash-{r.memo}", f"lnbcrt-{r.memo}", r.amount_msat, 1_000 + r.expiry_seconds)
        for r in requests
    ]


async def test_the_request_is_passed_through_as_create_invoice_takes_it() -> None:
    wallet = OneAtATimeWallet()
    digest = bytes(range(32))
    await create_invoices_concurrently(
        wallet, [InvoiceRequest(5_000, "plain", 60), InvoiceRequest(7_000, "h", 90, {}, digest)]
    )
    assert sorted(wallet.calls, key=lambda call: call[0]) == [
        (5_000, "plain", 60, {}, {}),  # no description_hash keyword: LNbits-internal takes none
        (7_000, "h", 90, {}, {"description_hash": digest}),
    ]


async def test_a_refused_third_request_fails_alone() -> None:
    refusal = WalletError("backend: amount too small")
    wallet = OneAtATimeWallet({3: refusal})
    outcomes = await create_invoices_concurrently(wallet, _requests(5), limit=1)
    assert outcomes[2] is refusal
    assert [type(o) for i, o in enumerate(outcomes) if i != 2] == [NewInvoice] * 4
    assert [o.amount_msat for o in outcomes if isinstance(o, NewInvoice)] == [
        1_000,
        2_000,
        4_000,
        5_000,
    ]


async def test_a_refusal_among_concurrent_calls_stays_with_its_request() -> None:
    wallet = OneAtATimeWallet({3: WalletError("no route")})
    outcomes = await create_invoices_concurrently(wallet, _requests(5))
    assert [i for i, o in enumerate(outcomes) if isinstance(o, WalletError)] == [2]  # 3rd call
    assert [o.bolt11 for o in outcomes if isinstance(o, NewInvoice)] == [
        f"lnbcrt-{'x' * i}" for i in (0, 1, 3, 4)
    ]


async def test_an_unexpected_exception_becomes_that_requests_wallet_error() -> None:
    broken = KeyError("payment_hash")
    wallet = OneAtATimeWallet({2: broken})
    outcomes = await create_invoices_concurrently(wallet, _requests(4), limit=1)
    error = outcomes[1]
    assert isinstance(error, WalletError)
    assert "one-at-a-time wallet: KeyError: 'payment_hash'" in str(error)
    assert error.__cause__ is broken
    assert [isinstance(o, NewInvoice) for o in outcomes] == [True, False, True, True]


async def test_every_request_failing_still_returns_one_error_each() -> None:
    wallet = OneAtATimeWallet({n: RuntimeError(f"down {n}") for n in range(1, 7)})
    outcomes = await create_invoices_concurrently(wallet, _requests(6), limit=1)
    assert [str(o) for o in outcomes] == [
        f"one-at-a-time wallet: RuntimeError: down {n}" for n in range(1, 7)
    ]


async def test_at_most_the_bound_is_in_flight_and_the_bound_is_used() -> None:
    wallet = OneAtATimeWallet()
    await create_invoices_concurrently(wallet, _requests(50))
    assert MINT_CONCURRENCY == 8
    assert wallet.most_in_flight == MINT_CONCURRENCY
    assert len(wallet.calls) == 50


@pytest.mark.parametrize(("limit", "count", "most"), [(1, 5, 1), (3, 40, 3), (8, 2, 2)])
async def test_a_smaller_bound_or_batch_limits_the_calls_in_flight(
    limit: int, count: int, most: int
) -> None:
    wallet = OneAtATimeWallet()
    outcomes = await create_invoices_concurrently(wallet, _requests(count), limit=limit)
    assert (wallet.most_in_flight, len(outcomes)) == (most, count)


async def test_an_empty_batch_makes_no_call() -> None:
    wallet = OneAtATimeWallet()
    assert await create_invoices_concurrently(wallet, []) == []
    assert wallet.calls == []
