"""LNURL-pay (LUD-06, LUD-16): each merchant's lightning address, answered by its wallet.

Plebeian Market's buyers (and any client following the market spec's `lud16`
payment preference) pay the merchant's lightning address themselves, then send a
kind 17 receipt naming the invoice. So the address is served here: the name is
the merchant's npub, the host is `NOSTRBAZAAR_PUBLIC_URL`'s, and every invoice is
minted by the merchant's wallet backend, commits to sha256 of the metadata as its
description hash (LUD-06; paying wallets check it), and is recorded
(`lnurl_invoices`), so a receipt can be checked against what we issued and
claimed for one order, once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlparse

from loguru import logger

from ..config import Settings
from ..crud.lnurl import AddressInvoice, insert_address_invoice
from ..crud.uow import unit_of_work
from ..nostr.keys import InvalidKey
from ..nostr.nip19 import normalize_public_key, npub_encode
from ..wallets.base import WalletError
from .deps import Deps, Merchant

MIN_SENDABLE = 1_000  # msat: one satoshi
MAX_SENDABLE = 1_000_000_000_000  # msat: ten bitcoin
CALLBACK_PATH = "/lnurlp/{name}/callback"


class LnurlError(Exception):
    """An LNURL request we cannot answer; `reason` goes in `{"status": "ERROR", ...}`."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def lightning_address(settings: Settings, public_key: str) -> str | None:
    """`<npub>@<host>` when `NOSTRBAZAAR_PUBLIC_URL` says where buyers reach us, else None."""
    if not settings.public_url:
        return None
    host = urlparse(settings.public_url).netloc
    return f"{npub_encode(public_key)}@{host}"


async def pay_request(deps: Deps, name: str, base_url: str) -> dict[str, Any]:
    """LUD-06's first answer: where to ask for an invoice, the bounds, the metadata."""
    merchant = await _merchant(deps, name)
    return {
        "tag": "payRequest",
        "callback": base_url.rstrip("/") + CALLBACK_PATH.format(name=name),
        "minSendable": MIN_SENDABLE,
        "maxSendable": MAX_SENDABLE,
        "metadata": _metadata(deps.settings, merchant),
    }


async def address_invoice(deps: Deps, name: str, amount: str | None) -> dict[str, Any]:
    """The callback: an invoice for `amount` msat from the merchant's wallet, committing to
    sha256 of the pay request's metadata (LUD-06's `h`; wallets check it), recorded."""
    merchant = await _merchant(deps, name)
    amount_msat = _amount(amount)
    metadata = _metadata(deps.settings, merchant)  # the very string the pay request sends
    expiry = deps.settings.invoice_expiry_seconds
    extra = {"merchant_id": merchant.id, "lightning_address": True}
    digest = hashlib.sha256(metadata.encode()).digest()  # LUD-06: the invoice's `h`
    try:
        new = await deps.wallet.create_invoice(amount_msat, metadata, expiry, extra, digest)
    except WalletError as error:
        logger.warning("lightning address of {}: no invoice: {}", merchant.id, error)
        raise LnurlError("the merchant's wallet cannot issue invoices right now", 503) from None
    record = AddressInvoice(
        new.payment_hash, merchant.id, new.amount_msat, new.bolt11, new.expires_at, None,
        deps.now(),
    )  # fmt: skip
    async with unit_of_work(deps.db) as conn:
        await insert_address_invoice(conn, record)
    return {"pr": new.bolt11, "routes": []}


async def _merchant(deps: Deps, name: str) -> Merchant:
    """The active merchant whose npub (or hex public key) is `name`."""
    try:
        public_key = normalize_public_key(name.lower())
    except (InvalidKey, ValueError):
        raise LnurlError(f"no lightning address {name!r} here", 404) from None
    merchant = await deps.merchants.by_pubkey(public_key)
    if merchant is None or not merchant.active:
        raise LnurlError(f"no lightning address {name!r} here", 404)
    return merchant


def _metadata(settings: Settings, merchant: Merchant) -> str:
    """LUD-06 metadata (a JSON string), with LUD-16's identifier when the address is known."""
    address = lightning_address(settings, merchant.public_key)
    entries = [["text/plain", f"Payment to {address or npub_encode(merchant.public_key)}"]]
    if address:
        entries.append(["text/identifier", address])
    return json.dumps(entries)


def _amount(raw: str | None) -> int:
    """The requested amount: whole satoshis in millisatoshis, within the advertised bounds."""
    if raw is None or not raw.strip():
        raise LnurlError("missing amount (millisatoshis)")
    try:
        amount = int(raw)
    except ValueError:
        raise LnurlError(f"amount must be whole millisatoshis, not {raw[:30]!r}") from None
    if not MIN_SENDABLE <= amount <= MAX_SENDABLE:
        raise LnurlError(f"amount must be between {MIN_SENDABLE} and {MAX_SENDABLE} millisatoshis")
    if amount % 1000:
        raise LnurlError("amount must be whole satoshis (a multiple of 1000 millisatoshis)")
    return amount
