"""LNbits specifics against a real LNbits 1.6.2: refusals at start-up, the polling
fallback when the websocket is unavailable, and health when LNbits goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.tests.support.lnbits_server import LNbitsServer, acquire_shared, release_shared
from nostrbazaar.wallets.base import WalletError
from nostrbazaar.wallets.lnbits import LNbitsWallet

pytestmark = [pytest.mark.lnbits, pytest.mark.timeout(900)]


@pytest.fixture(scope="session")
def lnbits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LNbitsServer]:
    server = acquire_shared(tmp_path_factory.mktemp("lnbits"))
    try:
        yield server
    finally:
        release_shared()


async def test_a_wrong_invoice_key_fails_start_naming_lnbits_and_the_variable(
    lnbits_server: LNbitsServer,
) -> None:
    wallet = LNbitsWallet(lnbits_server.url, "not-a-key")
    with pytest.raises(WalletError, match=r"lnbits backend.*Wallet not found.*INVOICE_KEY"):
        await wallet.start()


async def test_an_unreachable_url_fails_start_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(WalletError, match=f"cannot reach LNbits at {url}"):
        await LNbitsWallet(url, "key").start()


async def test_settlements_still_arrive_by_polling_without_the_websocket(
    lnbits_server: LNbitsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lnbits_server.merchant is not None
    dead = f"ws://127.0.0.1:{free_port()}/nothing"
    monkeypatch.setattr(LNbitsWallet, "_ws_url", lambda _self: dead)
    wallet = LNbitsWallet(lnbits_server.url, lnbits_server.merchant.inkey, poll_interval=0.2)
    await wallet.start()
    try:
        stream = wallet.settlements()
        new = await wallet.create_invoice(11_000, "polled", 600)
        await asyncio.to_thread(lnbits_server.pay, new.bolt11)
        seen = await asyncio.wait_for(anext(stream), 30)
        assert (seen.payment_hash, seen.amount_msat) == (new.payment_hash, 11_000)
        assert "polling" in (await wallet.health())["detail"]
    finally:
        await wallet.stop()


async def test_health_shows_lnbits_going_away() -> None:
    """A stand-in answering only `GET /api/v1/wallet`, stopped mid-test."""
    app = FastAPI()
    app.get("/api/v1/wallet")(lambda: {"name": "stand-in", "balance": 0})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    wallet = LNbitsWallet(f"http://127.0.0.1:{port}", "key", timeout=2)
    try:
        await wallet.start()
        assert (await wallet.health())["ok"] is True
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        health = await wallet.health()
        assert (health["backend"], health["ok"]) == ("lnbits", False)
        assert "cannot reach LNbits" in health["detail"]
        with pytest.raises(WalletError, match="cannot reach LNbits"):
            await wallet.create_invoice(1_000, "down", 60)
    finally:
        await wallet.stop()
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
