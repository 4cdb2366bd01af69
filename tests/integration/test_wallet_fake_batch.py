"""The fake wallet minting a batch (`create_invoices`): one write for the whole batch, and
every invoice of it then behaves as one minted alone: it settles through `pay` (and the
pay endpoint), expires, cancels, and another instance on the same store can settle it.

Each test runs on the three stores: the data dir's SQLite file (`FakeStore`), and the
service's database (`DbFakeStore`) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, closing
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nostrbazaar.api.fakewallet import fake_pay_router
from nostrbazaar.storage.engines import open_database
from nostrbazaar.wallets.base import InvoiceRequest, InvoiceState, NewInvoice, WalletError
from nostrbazaar.wallets.fake import STORE_FILE, FakeWallet, InvoiceAlreadyPaid, InvoiceNotPayable
from nostrbazaar.wallets.fake_db_store import DbFakeStore
from nostrbazaar.wallets.fake_store import FakeInvoice, FakeStore
from nostrbazaar.wallets.invoice_codec import decode_invoice
from support import pg

STREAM_WAIT = 10.0  # a bound on waiting, never an assertion about speed
STORES = ["file", "sqlite", "postgresql"]


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingFileStore(FakeStore):
    """The file store, recording the size of each batch its thread writes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[int] = []

    def _insert(self, batch: list[FakeInvoice]) -> None:
        self.writes.append(len(batch))
        super()._insert(batch)


class CountingDatabase:
    """The engine's database, counting the transactions opened on it."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.transactions = 0

    def transaction(self, *args: Any, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
        self.transactions += 1
        return self.db.transaction(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


@dataclass
class Setup:
    """Wallets on one store; `writes()` counts the writes of new invoices so far."""

    kind: str
    data_dir: Path
    clock: Clock
    make: Callable[[], Awaitable[FakeWallet]]
    writes: Callable[[], int]
    drop_invoices: Callable[[], Awaitable[None]]
    started: list[FakeWallet] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def wallet(self) -> FakeWallet:
        made = await self.make()
        self.started.append(made)
        return made


def _file_setup(data_dir: Path, clock: Clock) -> Setup:
    stores: list[CountingFileStore] = []

    async def make() -> FakeWallet:
        stores.append(CountingFileStore(data_dir / STORE_FILE))
        wallet = FakeWallet(data_dir, clock, store=stores[-1])
        await wallet.start()
        return wallet

    async def drop_invoices() -> None:
        with closing(sqlite3.connect(data_dir / STORE_FILE)) as db:
            db.execute("DROP TABLE invoices")

    return Setup(
        "file", data_dir, clock, make, lambda: sum(len(s.writes) for s in stores), drop_invoices
    )


def _db_setup(kind: str, url: str | None, tmp_path: Path, clock: Clock) -> Setup:
    dbs: list[CountingDatabase] = []

    async def make() -> FakeWallet:
        db = open_database(url, tmp_path / "service.sqlite3")
        await db.connect()
        dbs.append(CountingDatabase(db))
        wallet = FakeWallet(tmp_path / "wallet", clock, store=DbFakeStore(dbs[-1]))
        await wallet.start()
        return wallet

    async def drop_invoices() -> None:
        await dbs[0].executescript("DROP TABLE fake_wallet_invoices")

    async def close() -> None:
        for db in dbs:
            await db.db.close()

    setup = Setup(
        kind,
        tmp_path / "wallet",
        clock,
        make,
        lambda: sum(d.transactions for d in dbs),
        drop_invoices,
    )
    setup.closers.append(close)
    return setup


@pytest.fixture(params=STORES)
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Setup]:
    if request.param == "file":
        ready = _file_setup(tmp_path / "wallet", Clock())
    else:
        url = None
        if request.param == "postgresql":
            url = await pg.new_schema(request.getfixturevalue("pg_database"))
        ready = _db_setup(request.param, url, tmp_path, Clock())
    yield ready
    for wallet in ready.started:
        await wallet.stop()
    for close in ready.closers:
        await close()


def _requests(count: int) -> list[InvoiceRequest]:
    return [
        InvoiceRequest(1_000 * (i + 1), f"order {i}", 600, {"order_id": str(i)})
        for i in range(count)
    ]


def _minted(outcomes: list[NewInvoice | WalletError]) -> list[NewInvoice]:
    minted = [one for one in outcomes if isinstance(one, NewInvoice)]
    assert len(minted) == len(outcomes), [o for o in outcomes if isinstance(o, WalletError)]
    return minted


async def _next_hash(stream: AsyncIterator[Any]) -> str:
    settlement = await asyncio.wait_for(anext(stream), STREAM_WAIT)
    return str(settlement.payment_hash)


async def test_each_request_gets_its_invoice_in_order_and_refusals_stay_alone(
    setup: Setup,
) -> None:
    wallet = await setup.wallet()
    requests = _requests(6)
    requests[1] = InvoiceRequest(0, "no amount", 600)
    requests[3] = InvoiceRequest(5_000, "x" * 700, 600)  # too long for one BOLT11 field
    requests[4] = InvoiceRequest(5_000, "no expiry", 0)
    outcomes = await wallet.create_invoices(requests)
    assert [type(one) for one in outcomes] == [NewInvoice, WalletError] * 2 + [WalletError] + [
        NewInvoice
    ]
    assert "amount must be a positive" in str(outcomes[1])
    assert "too long" in str(outcomes[3])
    assert "expiry must be positive" in str(outcomes[4])
    for index in (0, 2, 5):
        new, asked = outcomes[index], requests[index]
        assert isinstance(new, NewInvoice)
        decoded = decode_invoice(new.bolt11)
        assert (decoded.payment_hash, decoded.amount_msat, decoded.description) == (
            new.payment_hash,
            asked.amount_msat,
            asked.memo,
        )
        assert (decoded.payee, new.expires_at) == (wallet.node_pubkey, int(setup.clock.now) + 600)
        status = await wallet.get_invoice_status(new.payment_hash)
        assert (status.state, status.amount_msat) == (InvoiceState.PENDING, asked.amount_msat)


async def test_a_batch_is_stored_in_one_write(setup: Setup) -> None:
    wallet = await setup.wallet()
    await wallet.create_invoice(1_000, "alone", 600)
    await asyncio.sleep(0)  # the single invoice's commit is handed over after this turn
    before = setup.writes()
    _minted(await wallet.create_invoices(_requests(300)))  # over the file store's 256 a batch
    await wallet.get_invoice_status("00" * 32)  # a read after the batch's write
    if setup.kind == "file":
        await wallet.cancel_invoice("00" * 32)  # the store's thread: written before this runs
    assert setup.writes() - before == 1


async def test_a_large_batch_lets_the_loop_run_while_it_is_signed(setup: Setup) -> None:
    wallet = await setup.wallet()
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    before = turns
    _minted(await wallet.create_invoices(_requests(300)))  # three chunks of signatures
    counter.cancel()
    assert turns - before >= 2


async def test_every_invoice_of_a_batch_settles_once_through_pay_and_the_stream(
    setup: Setup,
) -> None:
    wallet = await setup.wallet()
    stream = wallet.settlements()
    minted = _minted(await wallet.create_invoices(_requests(12)))
    for new in minted:
        settlement = await wallet.pay(new.bolt11)
        assert (settlement.amount_msat, await _next_hash(stream)) == (
            new.amount_msat,
            new.payment_hash,
        )
    for order_id, new in enumerate(minted):
        status = await wallet.get_invoice_status(new.payment_hash)
        assert (status.state, status.settled_at) == (InvoiceState.SETTLED, int(setup.clock.now))
        with pytest.raises(InvoiceAlreadyPaid):
            await wallet.pay(new.bolt11)
        assert (await wallet._store.lookup(new.payment_hash)).extra == {  # type: ignore[union-attr]
            "order_id": str(order_id)
        }


async def test_the_pay_endpoint_settles_an_invoice_of_a_batch(setup: Setup) -> None:
    wallet = await setup.wallet()
    new = _minted(await wallet.create_invoices(_requests(3)))[1]
    app = FastAPI()
    app.state.runtime = SimpleNamespace(wallet=wallet)
    app.include_router(fake_pay_router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.post("/api/v1/fakewallet/pay", json={"bolt11": new.bolt11})
        again = await http.post("/api/v1/fakewallet/pay", json={"bolt11": new.bolt11})
    assert (ok.status_code, ok.json()["payment_hash"], ok.json()["amount_msat"]) == (
        200,
        new.payment_hash,
        2_000,
    )
    assert again.status_code == 409


async def test_invoices_of_a_batch_expire_and_cancel_like_single_ones(setup: Setup) -> None:
    wallet = await setup.wallet()
    short, long, cancelled = _minted(
        await wallet.create_invoices(
            [
                InvoiceRequest(1_000, "short", 60),
                InvoiceRequest(1_000, "long", 600),
                InvoiceRequest(1_000, "cancel", 600),
            ]
        )
    )
    assert await wallet.cancel_invoice(cancelled.payment_hash) is True
    setup.clock.now += 61
    assert (await wallet.get_invoice_status(short.payment_hash)).state is InvoiceState.EXPIRED
    with pytest.raises(InvoiceNotPayable, match="expired"):
        await wallet.pay(short.bolt11)
    with pytest.raises(InvoiceNotPayable, match="cancelled"):
        await wallet.pay(cancelled.bolt11)
    assert (await wallet.pay(long.bolt11)).payment_hash == long.payment_hash


async def test_another_instance_settles_an_invoice_of_a_batch(setup: Setup) -> None:
    first = await setup.wallet()
    minted = _minted(await first.create_invoices(_requests(5)))
    if setup.kind == "file":  # one process at a time on a data dir: the next one starts
        await first.stop()
    other = await setup.wallet()
    assert other.node_pubkey == first.node_pubkey
    assert (await other.pay(minted[3].bolt11)).amount_msat == 4_000
    with pytest.raises(InvoiceAlreadyPaid):
        await other.pay(minted[3].bolt11)
    status = await other.get_invoice_status(minted[4].payment_hash)
    assert (status.state, status.amount_msat) == (InvoiceState.PENDING, 5_000)


async def test_a_batch_the_store_cannot_write_fails_each_request_with_the_reason(
    setup: Setup, log_messages: list[str]
) -> None:
    wallet = await setup.wallet()
    await setup.drop_invoices()
    requests = _requests(3)
    requests[0] = InvoiceRequest(-5, "refused before writing", 600)
    outcomes = await wallet.create_invoices(requests)
    assert [type(one) for one in outcomes] == [WalletError] * 3
    assert "amount must be a positive" in str(outcomes[0])
    assert all("could not be stored" in str(one) for one in outcomes[1:])
    assert any("a batch was not stored" in message for message in log_messages)


async def test_a_stopped_wallet_answers_each_request_with_an_error(setup: Setup) -> None:
    wallet = await setup.wallet()
    await wallet.stop()
    outcomes = await wallet.create_invoices(_requests(2))
    assert [str(one) for one in outcomes] == ["fake wallet is not started"] * 2
    assert await wallet.create_invoices([]) == []
