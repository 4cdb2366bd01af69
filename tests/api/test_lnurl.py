"""LNURL-pay for each merchant's lightning address (LUD-06, LUD-16), over HTTP through the
app: the well-known document, the callback answered with a real BOLT11 invoice for the
amount asked (read back with the independent `bolt11` package), and bad requests refused
with LNURL's error shape."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import bolt11 as bolt11_lib
import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.nip19 import npub_encode

from .conftest import Shop, open_shop


def npub_of(shop: Shop) -> str:
    return npub_encode(shop.merchant["public_key"])


async def test_the_well_known_document_names_the_callback_and_the_bounds(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    response = await client.get(f"/.well-known/lnurlp/{npub_of(alice)}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["tag"] == "payRequest"
    assert doc["callback"] == f"http://test/lnurlp/{npub_of(alice)}/callback"
    assert (doc["minSendable"], doc["maxSendable"]) == (1000, 1_000_000_000_000)
    assert json.loads(doc["metadata"]) == [["text/plain", f"Payment to {npub_of(alice)}"]]


async def test_the_callback_answers_a_real_invoice_for_the_amount_asked(
    client: httpx.AsyncClient, alice: Shop, runtime: Runtime
) -> None:
    response = await client.get(f"/lnurlp/{npub_of(alice)}/callback", params={"amount": 21000})
    assert response.status_code == 200
    answer = response.json()
    assert answer["routes"] == []
    decoded = bolt11_lib.decode(answer["pr"])
    assert decoded.amount_msat == 21000
    row = await runtime.db.fetchone("SELECT merchant_id, amount_msat, used_by_order FROM"
                                    " lnurl_invoices WHERE payment_hash = ?",
                                    (decoded.payment_hash,))  # fmt: skip
    assert row is not None and tuple(row) == (alice.merchant["id"], 21000, None)
    assert runtime.wallet.invoice(decoded.payment_hash) is not None  # the merchant's wallet's


async def test_the_invoice_commits_to_the_metadata_of_the_well_known_document(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    doc = (await client.get(f"/.well-known/lnurlp/{npub_of(alice)}")).json()
    response = await client.get(doc["callback"], params={"amount": 5000})
    decoded = bolt11_lib.decode(response.json()["pr"])
    expected = hashlib.sha256(doc["metadata"].encode("utf-8")).hexdigest()
    assert decoded.description_hash == expected  # LUD-06: what paying wallets check
    assert decoded.description is None  # BOLT11: `h` instead of `d`, never both


async def test_the_hex_public_key_names_the_same_address(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    response = await client.get(f"/.well-known/lnurlp/{alice.merchant['public_key']}")
    assert response.status_code == 200 and response.json()["tag"] == "payRequest"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "missing amount (millisatoshis)"),
        ({"amount": "twenty"}, "amount must be whole millisatoshis, not 'twenty'"),
        ({"amount": "0"}, "amount must be between 1000 and 1000000000000 millisatoshis"),
        ({"amount": "999"}, "amount must be between 1000 and 1000000000000 millisatoshis"),
        ({"amount": "10**13"}, "amount must be whole millisatoshis, not '10**13'"),
        ({"amount": str(10**13)}, "amount must be between 1000 and 1000000000000 millisatoshis"),
        ({"amount": "1500"}, "amount must be whole satoshis (a multiple of 1000 millisatoshis)"),
    ],
)
async def test_a_bad_amount_is_refused_in_lnurls_error_shape(
    client: httpx.AsyncClient, alice: Shop, runtime: Runtime, params: dict[str, str], reason: str
) -> None:
    response = await client.get(f"/lnurlp/{npub_of(alice)}/callback", params=params)
    assert (response.status_code, response.json()) == (400, {"status": "ERROR", "reason": reason})
    count = await runtime.db.fetchone("SELECT COUNT(*) FROM lnurl_invoices")
    assert count is not None and count[0] == 0


@pytest.mark.parametrize("name", ["nobody", npub_encode("11" * 32), "ab" * 40])
async def test_an_unknown_address_is_not_found(
    client: httpx.AsyncClient, alice: Shop, name: str
) -> None:
    for path in (f"/.well-known/lnurlp/{name}", f"/lnurlp/{name}/callback?amount=1000"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "status": "ERROR",
            "reason": f"no lightning address {name!r} here",
        }


async def test_a_merchant_not_taking_orders_has_no_address(
    client: httpx.AsyncClient, alice: Shop
) -> None:
    toggled = await client.put(
        f"/api/v1/merchant/{alice.merchant['id']}/toggle", headers=alice.admin
    )
    assert toggled.status_code == 200 and toggled.json()["config"]["active"] is False
    response = await client.get(f"/.well-known/lnurlp/{npub_of(alice)}")
    assert response.status_code == 404


@pytest.fixture
async def public_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app that knows its public address (NOSTRBAZAAR_PUBLIC_URL)."""
    settings = Settings(data_dir=tmp_path / "public", secret="s", public_url="https://shop.example")
    application = create_app(settings)
    application.state.runtime.background = False
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
            yield http


async def test_the_public_address_names_the_callback_and_the_lightning_address(
    public_client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(public_client, "Carol")
    doc: dict[str, Any] = (await public_client.get(f"/.well-known/lnurlp/{npub_of(shop)}")).json()
    address = f"{npub_of(shop)}@shop.example"
    assert doc["callback"] == f"https://shop.example/lnurlp/{npub_of(shop)}/callback"
    assert json.loads(doc["metadata"]) == [
        ["text/plain", f"Payment to {address}"], ["text/identifier", address],
    ]  # fmt: skip
    callback = doc["callback"].removeprefix("https://shop.example")
    answer = (await public_client.get(callback, params={"amount": 1000})).json()
    expected = hashlib.sha256(doc["metadata"].encode("utf-8")).hexdigest()
    assert bolt11_lib.decode(answer["pr"]).description_hash == expected
