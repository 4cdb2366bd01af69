"""Shopstr ecash checkouts against a real Cashu mint (nutshell 0.21 with its fake Lightning
backend, on 127.0.0.1, installed into .cache/cashu-venv by `support/cashu_mint.py`): the
buyer's tokens come from nutshell's own wallet, the checkout is built as Shopstr builds it
(`components/product-invoice-card.tsx`, `sendTokens`: `["payment", "ecash", <token>]` and
the token in the text; `utils/nostr/gift-wrap.ts`) and sent by a nostr-sdk buyer. The mint
charges an input fee (100 ppk), as nutshell does by default.

The shop sells `p1` at 100 sat (+2 sat shipping) to zone `zone-1` (5 sat): 107 sat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.services import cashu_payments, cashu_wallet
from nostrbazaar.services.cashu_payments import resume_claimed
from nostrbazaar.wallets.cashu_client import MintClient, input_fee, new_outputs
from nostrbazaar.wallets.cashu_nut00 import y_of
from nostrbazaar.wallets.cashu_token import decode
from support.cashu_mint import CashuMint, NutshellWallet
from support.gamma_buyer import value
from support.market_buyers import ShopstrBuyer
from support.orders_fixtures import Shop, make_shop

pytestmark = [pytest.mark.cashu, pytest.mark.slow]


@pytest.fixture(scope="module")
def mint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CashuMint]:
    started = CashuMint(tmp_path_factory.mktemp("mint"))
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def wallet(mint: CashuMint, tmp_path_factory: pytest.TempPathFactory) -> NutshellWallet:
    buyer_wallet = NutshellWallet(tmp_path_factory.mktemp("buyer-wallet"), mint.url)
    buyer_wallet.fund(2000)
    return buyer_wallet


@pytest.fixture
async def shop(tmp_path: Path, mint: CashuMint) -> AsyncIterator[Shop]:
    opened = await make_shop(tmp_path / "shop", cashu_mints=(mint.url,))
    yield opened
    await opened.close()


async def checkout(shop: Shop, buyer: ShopstrBuyer, order_id: str, token: str) -> Any:
    pk = shop.merchant.public_key
    tags, text = buyer.payment(pk, order_id, "p1", decode(token).amount, "ecash", token)
    event = buyer.wrapped(pk, 14, tags, text)
    return await ingest_event(shop.deps, shop.merchant, event)


async def spent(mint: CashuMint, token: str) -> list[str]:
    ys = [y_of(proof.secret) for proof in decode(token).proofs]
    states = await MintClient(mint.url).check_state(ys)
    return sorted(set(states.values()))


async def test_an_ecash_checkout_is_paid_once_its_token_is_redeemed_at_the_mint(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet
) -> None:
    buyer = ShopstrBuyer()
    token = wallet.send(107)  # --include-fees, as Shopstr's `includeFees: true`
    verdict = await checkout(shop, buyer, "s-1", token)
    assert (verdict.verdict, verdict.order_id) == ("processed", "s-1")
    order = await shop.order("s-1")
    assert (order.status, order.dialect, order.public_key) == ("paid", "shopstr", buyer.pubkey)
    assert await spent(mint, token) == ["SPENT"]  # swapped: the buyer's proofs are gone
    held = await cashu_wallet.summary(shop.deps, shop.merchant_id)
    assert held["total_sats"] == 107 and held["balances"] == [{"mint": mint.url, "sats": 107}]
    payment = await shop.db.fetchone("SELECT payment_hash, source, amount_msat FROM payments")
    assert payment is not None and (payment["source"], payment["amount_msat"]) == ("cashu", 107_000)
    redemption = await shop.db.fetchone("SELECT state, token_sealed FROM cashu_redemptions")
    assert redemption is not None and (redemption["state"], redemption["token_sealed"]) == (
        "redeemed", None)  # fmt: skip
    (confirmed,) = await buyer.inbox(shop, "s-1")
    assert (value(confirmed, "subject"), value(confirmed, "status")) == ("order-info", "confirmed")
    kept = await shop.db.fetchall("SELECT message FROM direct_messages WHERE direction = 'in'")
    assert token not in kept[0]["message"] and "[cashu token]" in kept[0]["message"]
    sealed = await shop.db.fetchall("SELECT sealed FROM cashu_proofs")
    assert all("secret" not in row["sealed"] for row in sealed)  # sealed, not clear JSON


async def reason_told(shop: Shop, buyer: ShopstrBuyer, order_id: str) -> str:
    note = (await buyer.inbox(shop, order_id))[0]
    assert value(note, "subject") == "order-info"
    return str(note["content"])


async def test_the_same_token_twice_pays_one_order(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet
) -> None:
    buyer = ShopstrBuyer()
    token = wallet.send(107)
    await checkout(shop, buyer, "s-1", token)
    await checkout(shop, buyer, "s-2", token)  # a second checkout with the spent token
    assert [(await shop.order(i)).status for i in ("s-1", "s-2")] == ["paid", "awaiting_payment"]
    assert "the token was already spent" in await reason_told(shop, buyer, "s-2")
    paid = await shop.db.fetchall("SELECT order_id FROM payments WHERE source = 'cashu'")
    assert [row["order_id"] for row in paid] == ["s-1"]
    assert (await cashu_wallet.summary(shop.deps, shop.merchant_id))["total_sats"] == 107


async def test_a_token_of_a_mint_not_trusted_is_refused_and_left_unspent(
    tmp_path: Path, mint: CashuMint, wallet: NutshellWallet
) -> None:
    shop = await make_shop(tmp_path / "wary")  # trusts no mint
    try:
        buyer = ShopstrBuyer()
        token = wallet.send(107)
        await checkout(shop, buyer, "s-1", token)
        assert (await shop.order("s-1")).status == "awaiting_payment"
        told = await reason_told(shop, buyer, "s-1")
        assert f"the token's mint {mint.url} is not one this merchant accepts" in told
        assert await spent(mint, token) == ["UNSPENT"]  # never redeemed, never counted
        row = await shop.db.fetchone("SELECT state, reason FROM cashu_redemptions")
        assert row is not None and row["state"] == "refused" and "not one" in row["reason"]
    finally:
        await shop.close()


async def test_a_short_token_is_refused_with_what_it_is_worth(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet
) -> None:
    buyer = ShopstrBuyer()
    token = wallet.send(50)
    await checkout(shop, buyer, "s-1", token)
    assert (await shop.order("s-1")).status == "awaiting_payment"
    told = await reason_told(shop, buyer, "s-1")
    assert "the token is worth" in told and "the order needs 107 sat" in told
    assert await spent(mint, token) == ["UNSPENT"]
    assert (await cashu_wallet.summary(shop.deps, shop.merchant_id))["total_sats"] == 0


async def test_a_token_without_the_mints_fee_is_short_after_the_fee(
    shop: Shop, wallet: NutshellWallet
) -> None:
    buyer = ShopstrBuyer()
    token = wallet.send(107, include_fees=False)
    await checkout(shop, buyer, "s-1", token)
    assert "sat after the mint's fee" in await reason_told(shop, buyer, "s-1")


async def test_the_merchant_withdraws_as_a_token_that_another_wallet_receives(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet, tmp_path: Path
) -> None:
    await checkout(shop, ShopstrBuyer(), "s-1", wallet.send(107))
    done = await cashu_wallet.export_token(shop.deps, shop.merchant_id, mint.url)
    assert (done.kind, done.amount) == ("token", 107) and done.token is not None
    merchant_wallet = NutshellWallet(tmp_path / "merchant-wallet", mint.url)
    merchant_wallet.receive(done.token)
    assert merchant_wallet.balance() >= 106  # the mint keeps its input fee
    assert (await cashu_wallet.summary(shop.deps, shop.merchant_id))["total_sats"] == 0


async def test_the_merchant_withdraws_by_melting_to_a_lightning_invoice(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet, tmp_path: Path
) -> None:
    await checkout(shop, ShopstrBuyer(), "s-1", wallet.send(107))
    invoice = NutshellWallet(tmp_path / "payee", mint.url).invoice_only(50)
    done = await cashu_wallet.melt(shop.deps, shop.merchant_id, mint.url, invoice)
    assert (done.kind, done.amount) == ("melt", 50)
    left = (await cashu_wallet.summary(shop.deps, shop.merchant_id))["total_sats"]
    assert left == 107 - 50 - done.fee and left > 0  # the fee reserve came back as change


async def test_a_swap_whose_answer_was_lost_is_recovered_from_the_mint(
    shop: Shop, mint: CashuMint, wallet: NutshellWallet
) -> None:
    """We stopped after the mint signed our outputs (the claim is committed, the answer
    lost): `resume_claimed` asks the mint for the same signatures (NUT-09) and pays."""
    buyer = ShopstrBuyer()
    pk = shop.merchant.public_key
    built = buyer.payment(pk, "s-1", "p1", 99, "lightning", "x@y", 3)  # no payment found
    await ingest_event(shop.deps, shop.merchant, buyer.wrapped(pk, 14, *built))
    assert (await shop.order("s-1")).status == "awaiting_payment"
    text = wallet.send(107)
    token, client = decode(text), MintClient(mint.url)
    keysets = await client.keysets()
    proofs = cashu_payments._resolved(token, keysets)
    net = token.amount - input_fee(proofs, keysets)
    outputs = new_outputs(net, cashu_payments._active(keysets).id)
    ys = [y_of(proof.secret) for proof in proofs]
    await cashu_payments._claim(shop.deps, shop.merchant, "s-1", token, text, ys, outputs)
    await client.swap(proofs, outputs)  # the mint signed; we never stored its answer
    assert await resume_claimed(shop.deps) == 1
    assert (await shop.order("s-1")).status == "paid"
    assert (await cashu_wallet.summary(shop.deps, shop.merchant_id))["total_sats"] == net
    assert await resume_claimed(shop.deps) == 0  # nothing left claimed
