"""NIP-47 specifics: the test service checked against nostr-sdk's NWC client, encryption
negotiation, notifications decrypted by nostr-sdk, and the failures `start()` must name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import bolt11
import nostr_sdk
import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay, free_port
from nostrbazaar.tests.support.nwc_service import NOTE_NIP04, NOTE_NIP44, NWCService
from nostrbazaar.wallets.base import InvoiceState, WalletError
from nostrbazaar.wallets.nwc import NWCWallet


@pytest.fixture
async def relay_url() -> AsyncIterator[str]:
    relay = EmbeddedRelay()
    yield await relay.start()
    await relay.stop()


async def _service(relay_url: str, tmp_path: Path, **options: object) -> NWCService:
    service = NWCService([relay_url], tmp_path / "service", **options)  # type: ignore[arg-type]
    await service.start()
    return service


@pytest.mark.interop
async def test_service_answers_nostr_sdks_nwc_client(relay_url: str, tmp_path: Path) -> None:
    service = await _service(relay_url, tmp_path)
    try:
        client = nostr_sdk.NostrWalletConnect(nostr_sdk.NostrWalletConnectUri.parse(service.uri))
        made = await client.make_invoice(
            nostr_sdk.MakeInvoiceRequest(
                amount=42_000, description="sdk order", description_hash=None, expiry=300
            )
        )
        assert bolt11.decode(made.invoice).amount_msat == 42_000
        assert made.payment_hash == bolt11.decode(made.invoice).payment_hash
        found = await client.lookup_invoice(
            nostr_sdk.LookupInvoiceRequest(payment_hash=made.payment_hash, invoice=None)
        )
        assert (found.state, found.amount) == (nostr_sdk.TransactionState.PENDING, 42_000)
        await service.pay(made.invoice)
        paid = await client.lookup_invoice(
            nostr_sdk.LookupInvoiceRequest(payment_hash=None, invoice=made.invoice)
        )
        assert paid.state == nostr_sdk.TransactionState.SETTLED
        assert paid.preimage is not None and paid.settled_at is not None
    finally:
        await service.stop()


@pytest.mark.interop
async def test_notifications_decrypt_with_nostr_sdk_in_both_schemes(
    relay_url: str, tmp_path: Path
) -> None:
    service = await _service(relay_url, tmp_path)
    wallet = NWCWallet(service.uri)
    await wallet.start()
    try:
        new = await wallet.create_invoice(9_000, "notify", 600)
        await service.pay(new.bolt11)
    finally:
        await wallet.stop()
        await service.stop()
    client = nostr_sdk.SecretKey.parse(service.client_secret.hex)
    sender = nostr_sdk.PublicKey.parse(service.key.public_key)
    notes = {e.kind: e for e in service.sent if e.kind in (NOTE_NIP04, NOTE_NIP44)}
    nip44_text = nostr_sdk.nip44_decrypt(client, sender, notes[NOTE_NIP44].content)
    nip04_text = nostr_sdk.nip04_decrypt(client, sender, notes[NOTE_NIP04].content)
    for text in (nip44_text, nip04_text):
        payload = json.loads(text)
        assert payload["notification_type"] == "payment_received"
        assert payload["notification"]["payment_hash"] == new.payment_hash
        assert payload["notification"]["amount"] == 9_000
    assert all(e.first_tag("p") == service.client_secret.public_key for e in notes.values())


async def test_a_nip04_only_service_is_spoken_to_in_nip04(relay_url: str, tmp_path: Path) -> None:
    service = await _service(relay_url, tmp_path, encryptions=("nip04",))
    wallet = NWCWallet(service.uri)
    await wallet.start()
    try:
        stream = wallet.settlements()
        new = await wallet.create_invoice(2_000, "legacy", 600)
        await service.pay(new.bolt11)
        seen = await asyncio.wait_for(anext(stream), 30)
        assert seen.payment_hash == new.payment_hash
    finally:
        await wallet.stop()
        await service.stop()
    assert {e.first_tag("encryption") for e in service.requests} == {None}
    assert all("?iv=" in e.content for e in service.requests)


async def test_without_notifications_polling_still_reports_the_payment(
    relay_url: str, tmp_path: Path
) -> None:
    service = await _service(relay_url, tmp_path, notifications=False)
    wallet = NWCWallet(service.uri, poll_interval=0.2)
    await wallet.start()
    try:
        stream = wallet.settlements()
        new = await wallet.create_invoice(3_000, "polled", 600)
        await service.pay(new.bolt11)
        seen = await asyncio.wait_for(anext(stream), 30)
        assert (seen.payment_hash, seen.amount_msat) == (new.payment_hash, 3_000)
    finally:
        await wallet.stop()
        await service.stop()


async def test_start_fails_naming_the_service_when_it_has_no_info_event(
    relay_url: str, tmp_path: Path
) -> None:
    service = await _service(relay_url, tmp_path, publish_info=False)
    wallet = NWCWallet(service.uri, request_timeout=2)
    try:
        with pytest.raises(WalletError, match=f"no info event.*{service.key.public_key}"):
            await wallet.start()
    finally:
        await service.stop()


async def test_a_foreign_client_key_is_refused_as_unauthorized(
    relay_url: str, tmp_path: Path
) -> None:
    service = await _service(relay_url, tmp_path)
    stranger = NWCService([relay_url], tmp_path / "stranger")
    uri = service.uri.replace(service.client_secret.hex, stranger.client_secret.hex)
    wallet = NWCWallet(uri)
    await wallet.start()
    try:
        with pytest.raises(WalletError, match="UNAUTHORIZED"):
            await wallet.create_invoice(1_000, "not mine", 60)
    finally:
        await wallet.stop()
        await service.stop()


async def test_health_shows_the_relay_going_away(tmp_path: Path) -> None:
    relay = EmbeddedRelay()
    url = await relay.start()
    service = await _service(url, tmp_path)
    wallet = NWCWallet(service.uri, request_timeout=2)
    await wallet.start()
    try:
        assert (await wallet.health())["ok"] is True
        await relay.stop()
        health = await wallet.health()
        for _ in range(100):  # bounded: the pool notices the closed socket
            if not health["ok"]:
                break
            await asyncio.sleep(0.1)
            health = await wallet.health()
        assert health["ok"] is False
        assert health["backend"] == "nwc" and "0/1 relays" in health["detail"]
        with pytest.raises(WalletError):
            await wallet.get_invoice_status("00" * 32)
    finally:
        await wallet.stop()
        await service.stop()


async def test_a_lookup_after_settlement_reports_the_same_hash(
    relay_url: str, tmp_path: Path
) -> None:
    service = await _service(relay_url, tmp_path)
    wallet = NWCWallet(service.uri)
    await wallet.start()
    try:
        new = await wallet.create_invoice(1_234, "exact msat", 600)
        assert new.amount_msat == 1_234  # NIP-47 counts msat: no rounding
        await service.pay(new.bolt11)
        status = await wallet.get_invoice_status(new.payment_hash)
        assert (status.payment_hash, status.state) == (new.payment_hash, InvoiceState.SETTLED)
    finally:
        await wallet.stop()
        await service.stop()


async def test_start_fails_naming_the_relay_when_it_is_unreachable() -> None:
    service_key = "b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4"
    dead = f"ws://127.0.0.1:{free_port()}"
    uri = f"nostr+walletconnect://{service_key}?relay={dead}&secret={'11' * 32}"
    wallet = NWCWallet(uri, request_timeout=1)
    with pytest.raises(WalletError, match=f"nwc backend: no info event.*{dead}"):
        await wallet.start()
