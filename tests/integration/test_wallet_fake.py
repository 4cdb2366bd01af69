"""The fake wallet's own rules: its key file, its store, and every refusal of `pay`."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from nostrbazaar.api.fakewallet import fake_pay_router, pay_command
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.wallets.base import InvoiceState, WalletError
from nostrbazaar.wallets.fake import (
    KEY_FILE,
    STORE_FILE,
    FakeWallet,
    InvoiceAlreadyPaid,
    InvoiceNotPayable,
    MalformedInvoice,
    UnknownInvoice,
)


class Clock:
    """A clock the test moves by hand, so expiry needs no sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wallet(tmp_path: Path, clock: Clock) -> AsyncIterator[FakeWallet]:
    fake = FakeWallet(tmp_path, clock=clock)
    await fake.start()
    yield fake
    await fake.stop()


def test_node_key_file_is_private_and_kept(tmp_path: Path) -> None:
    first = FakeWallet(tmp_path).node_pubkey
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert FakeWallet(tmp_path).node_pubkey == first


async def test_paying_settles_once_and_the_stream_sees_it(wallet: FakeWallet) -> None:
    stream = wallet.settlements()
    new = await wallet.create_invoice(21_000, "order 1", 600, {"order_id": "1"})
    paid = await wallet.pay(new.bolt11)
    seen = await asyncio.wait_for(anext(stream), 5)
    assert seen == paid
    assert (seen.payment_hash, seen.amount_msat, seen.extra) == (
        new.payment_hash,
        21_000,
        {"order_id": "1"},
    )
    status = await wallet.get_invoice_status(new.payment_hash)
    assert (status.state, status.amount_msat, status.settled_at) == (
        InvoiceState.SETTLED,
        21_000,
        paid.settled_at,
    )


async def test_paying_twice_is_refused_as_already_paid(wallet: FakeWallet) -> None:
    new = await wallet.create_invoice(1_000, "twice", 600)
    await wallet.pay(new.bolt11)
    with pytest.raises(InvoiceAlreadyPaid, match="already paid"):
        await wallet.pay(new.bolt11.upper())


async def test_an_expired_invoice_cannot_be_paid(wallet: FakeWallet, clock: Clock) -> None:
    new = await wallet.create_invoice(1_000, "late", 60)
    clock.now += 61
    assert (await wallet.get_invoice_status(new.payment_hash)).state is InvoiceState.EXPIRED
    with pytest.raises(InvoiceNotPayable, match="expired"):
        await wallet.pay(new.bolt11)


async def test_paying_at_the_expiry_second_still_works(wallet: FakeWallet, clock: Clock) -> None:
    new = await wallet.create_invoice(1_000, "just in time", 60)
    clock.now = new.expires_at
    assert (await wallet.pay(new.bolt11)).payment_hash == new.payment_hash


async def test_a_cancelled_invoice_cannot_be_paid(wallet: FakeWallet) -> None:
    new = await wallet.create_invoice(1_000, "cancel me", 600)
    assert await wallet.cancel_invoice(new.payment_hash) is True
    assert await wallet.cancel_invoice(new.payment_hash) is False
    assert (await wallet.get_invoice_status(new.payment_hash)).state is InvoiceState.CANCELLED
    with pytest.raises(InvoiceNotPayable, match="cancelled"):
        await wallet.pay(new.bolt11)


async def test_another_nodes_invoice_is_unknown(wallet: FakeWallet, tmp_path: Path) -> None:
    other = FakeWallet(tmp_path / "other")
    await other.start()
    foreign = await other.create_invoice(1_000, "not ours", 600)
    await other.stop()
    with pytest.raises(UnknownInvoice, match="not issued by this fake wallet"):
        await wallet.pay(foreign.bolt11)
    assert (await wallet.get_invoice_status(foreign.payment_hash)).state is InvoiceState.UNKNOWN


@pytest.mark.parametrize("text", ["", "hello", "lnbcrt10n1qqqqqq", "lnbc1" + "q" * 300])
async def test_a_malformed_string_is_refused(wallet: FakeWallet, text: str) -> None:
    with pytest.raises(MalformedInvoice, match="not a valid BOLT11"):
        await wallet.pay(text)


@pytest.mark.parametrize(("amount", "expiry"), [(0, 60), (-5, 60), (1000, 0)])
async def test_impossible_requests_are_refused(
    wallet: FakeWallet, amount: int, expiry: int
) -> None:
    with pytest.raises(WalletError):
        await wallet.create_invoice(amount, "x", expiry)


async def test_invoices_and_settlements_survive_a_restart(tmp_path: Path) -> None:
    first = FakeWallet(tmp_path)
    await first.start()
    paid = await first.create_invoice(5_000, "paid", 600)
    open_one = await first.create_invoice(7_000, "open", 600)
    await first.pay(paid.bolt11)
    await first.stop()
    second = FakeWallet(tmp_path)
    await second.start()
    assert (await second.get_invoice_status(paid.payment_hash)).state is InvoiceState.SETTLED
    with pytest.raises(InvoiceAlreadyPaid):
        await second.pay(paid.bolt11)
    assert (await second.pay(open_one.bolt11)).amount_msat == 7_000
    await second.stop()


async def test_stop_ends_the_settlement_stream(tmp_path: Path) -> None:
    fake = FakeWallet(tmp_path)
    await fake.start()
    stream = fake.settlements()
    await fake.stop()
    assert [s async for s in stream] == []
    assert (await fake.health())["ok"] is False


async def test_a_stopped_wallet_refuses_work(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="not started"):
        await FakeWallet(tmp_path).create_invoice(1_000, "x", 60)


def _app(wallet: object) -> FastAPI:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(wallet=wallet)
    app.include_router(fake_pay_router)
    return app


async def test_pay_endpoint_maps_each_refusal_to_its_status(
    wallet: FakeWallet, clock: Clock
) -> None:
    paid = await wallet.create_invoice(3_000, "http", 600)
    late = await wallet.create_invoice(3_000, "late", 10)
    transport = httpx.ASGITransport(app=_app(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.post("/api/v1/fakewallet/pay", json={"bolt11": paid.bolt11})
        assert ok.status_code == 200
        assert ok.json()["payment_hash"] == paid.payment_hash and ok.json()["amount_msat"] == 3_000
        again = await http.post("/api/v1/fakewallet/pay", json={"bolt11": paid.bolt11})
        assert again.status_code == 409 and "already paid" in again.json()["detail"]
        clock.now += 11
        expired = await http.post("/api/v1/fakewallet/pay", json={"bolt11": late.bolt11})
        assert expired.status_code == 410 and "expired" in expired.json()["detail"]
        junk = await http.post("/api/v1/fakewallet/pay", json={"bolt11": "junk"})
        assert junk.status_code == 400 and "not a valid BOLT11" in junk.json()["detail"]
        missing = await http.post("/api/v1/fakewallet/pay", json={})
        assert missing.status_code == 422


async def test_pay_endpoint_answers_unknown_with_404(wallet: FakeWallet, tmp_path: Path) -> None:
    other = FakeWallet(tmp_path / "other")
    await other.start()
    foreign = await other.create_invoice(1_000, "x", 600)
    await other.stop()
    transport = httpx.ASGITransport(app=_app(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/api/v1/fakewallet/pay", json={"bolt11": foreign.bolt11})
    assert response.status_code == 404


async def test_pay_endpoint_is_unavailable_without_the_fake_backend() -> None:
    transport = httpx.ASGITransport(app=_app(object()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/api/v1/fakewallet/pay", json={"bolt11": "x"})
    assert response.status_code == 503


async def test_pay_command_pays_through_a_running_server(
    wallet: FakeWallet, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(_app(wallet), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        new = await wallet.create_invoice(8_000, "cli", 600)
        base = f"http://127.0.0.1:{port}"
        assert await asyncio.to_thread(pay_command, new.bolt11, base) == 0
        assert await asyncio.to_thread(pay_command, new.bolt11, base) == 1
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
    out, err = capsys.readouterr()
    assert f"paid 8000 msat, payment hash {new.payment_hash}" in out
    assert "payment refused (409)" in err


def test_pay_command_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert pay_command("lnbcrt1", f"http://127.0.0.1:{free_port()}") == 2
    assert "cannot reach" in capsys.readouterr().err


async def test_a_minted_invoice_reaches_the_disk_unasked(
    wallet: FakeWallet, tmp_path: Path
) -> None:
    new = await wallet.create_invoice(1_000, "durable", 600)
    rows: list[tuple[str, str]] = []
    for _ in range(200):  # the store's thread writes it within milliseconds
        await asyncio.sleep(0.01)
        with closing(sqlite3.connect(tmp_path / STORE_FILE)) as reader:
            rows = reader.execute("SELECT payment_hash, state FROM invoices").fetchall()
        if rows:
            break
    assert rows == [(new.payment_hash, "pending")]


async def test_many_invoices_minted_without_a_turn_of_the_loop_survive_a_restart(
    tmp_path: Path,
) -> None:
    first = FakeWallet(tmp_path)
    await first.start()
    minted = [await first.create_invoice(1_000 + i, f"burst {i}", 600) for i in range(600)]
    await first.stop()
    second = FakeWallet(tmp_path)
    await second.start()
    for new in minted:
        status = await second.get_invoice_status(new.payment_hash)
        assert (status.state, status.amount_msat) == (InvoiceState.PENDING, new.amount_msat)
    await second.stop()
