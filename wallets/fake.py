"""The embedded default backend: real, signed BOLT11 invoices that nobody can pay
on the Lightning network, settled by `pay()` (the fake-pay endpoint or CLI).

The node key is generated once and kept in the data directory
(`fake_wallet_node.key`, mode 0600), so invoices decode to the same payee
across restarts; invoices and settlements live in `fake_wallet.sqlite3` there.
Invoices are for regtest (`lnbcrt...`), so a real wallet refuses to pay them.
A batch (`create_invoices`, a batch of orders) is signed in one pass and stored
in one write; each of its invoices then lives exactly as one minted alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from ..nostr.secp import EcdsaKey
from .base import (
    InvoiceRequest,
    InvoiceState,
    InvoiceStatus,
    NewInvoice,
    Settlement,
    WalletError,
)
from .fake_db_store import DbFakeStore
from .fake_store import FakeInvoice, FakeStore
from .invoice_codec import InvoiceDecodeError, InvoiceFields, decode_invoice, encode_invoice
from .stream import SettlementHub

KEY_FILE = "fake_wallet_node.key"
STORE_FILE = "fake_wallet.sqlite3"
_SECRETS = 64  # random bytes an invoice needs: its preimage and its payment secret
_SIGNING_CHUNK = 128  # invoices signed between two turns of the loop (a few ms)


class MalformedInvoice(WalletError):
    """The string is not a BOLT11 invoice at all."""


class UnknownInvoice(WalletError):
    """A valid invoice, but not one this wallet issued."""


class InvoiceAlreadyPaid(WalletError):
    """The invoice was settled before; paying again would count the money twice."""


class InvoiceNotPayable(WalletError):
    """The invoice expired or was cancelled, so it can no longer be paid."""


def load_node_key(data_dir: Path) -> EcdsaKey:
    """The fake node's ECDSA key, generated on first use and kept 0600 in `data_dir`."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = bytes.fromhex(path.read_text().strip())
    else:
        secret = EcdsaKey().secret
        with os.fdopen(fd, "w") as handle:
            handle.write(secret.hex() + "\n")
    return EcdsaKey(secret)


class FakeWallet:
    """A self-contained Lightning backend for development, demos and tests."""

    name = "fake"

    def __init__(
        self,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        store: FakeStore | DbFakeStore | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._clock = clock
        self._store = store or FakeStore(data_dir / STORE_FILE)
        self._hub = SettlementHub()
        self._key: EcdsaKey | None = None
        self._started = False
        self._commit_scheduled = False

    @property
    def node_pubkey(self) -> str:
        """The payee node id (33-byte compressed key, hex) every invoice recovers to."""
        return self._node_key().public_key.hex()

    async def start(self) -> None:
        """Load the node key and the stored invoices."""
        try:
            secret = await self._store.start()
            self._key = EcdsaKey(secret) if secret else load_node_key(self.data_dir)
        except (OSError, ValueError) as error:
            raise WalletError(
                f"fake wallet: cannot use data dir {self.data_dir}: {error}"
            ) from error
        self._hub.reopen()
        self._started = True

    async def stop(self) -> None:
        self._started = False
        self._hub.close()
        await self._store.stop()

    async def create_invoice(
        self,
        amount_msat: int,
        memo: str,
        expiry_seconds: int,
        extra: dict[str, Any] | None = None,
        description_hash: bytes | None = None,
    ) -> NewInvoice:
        """Mint and store a signed invoice (`h` instead of `d` when `description_hash` is
        given); its preimage stays in the wallet."""
        self._check_started()
        request = InvoiceRequest(amount_msat, memo, expiry_seconds, extra or {}, description_hash)
        invoice = self._mint(request, int(self._clock()), os.urandom(_SECRETS))
        await self._store.put(invoice)
        self._commit_soon()
        return _new_invoice(invoice)

    async def create_invoices(
        self, requests: Sequence[InvoiceRequest]
    ) -> list[NewInvoice | WalletError]:
        """Mint a batch at once: every invoice signed, then all stored in one write. A
        request the wallet refuses is that request's WalletError; a failed write fails
        the batch's invoices (none of them was stored), each with the reason."""
        if not self._started:
            return [WalletError("fake wallet is not started") for _ in requests]
        outcomes = await self._mint_all(requests, int(self._clock()))
        minted = [one for one in outcomes if isinstance(one, FakeInvoice)]
        try:
            await self._store.put_many(minted)
        except Exception as error:  # the store's engine (SQLite, asyncpg) raises its own
            logger.opt(exception=error).warning("fake wallet: a batch was not stored: {}", error)
            refusal = WalletError(f"fake wallet: the invoices could not be stored: {error}")
            return [one if isinstance(one, WalletError) else refusal for one in outcomes]
        return [one if isinstance(one, WalletError) else _new_invoice(one) for one in outcomes]

    async def _mint_all(
        self, requests: Sequence[InvoiceRequest], now: int
    ) -> list[FakeInvoice | WalletError]:
        """Sign every request, letting the loop run between chunks: a large batch's
        signatures (~30 us each) never hold it for long."""
        secrets = os.urandom(_SECRETS * len(requests))  # one system call for the batch
        outcomes: list[FakeInvoice | WalletError] = []
        for index, request in enumerate(requests):
            if index and index % _SIGNING_CHUNK == 0:
                await asyncio.sleep(0)
            mine = secrets[index * _SECRETS : (index + 1) * _SECRETS]
            outcomes.append(self._mint_or_refuse(request, now, mine))
        return outcomes

    def _mint_or_refuse(
        self, request: InvoiceRequest, now: int, secrets: bytes
    ) -> FakeInvoice | WalletError:
        try:
            return self._mint(request, now, secrets)
        except WalletError as refusal:
            return refusal

    def _mint(self, request: InvoiceRequest, now: int, secrets: bytes) -> FakeInvoice:
        """A signed invoice for `request` at `now`, not yet stored; WalletError if refused.
        `secrets`: 64 random bytes, the preimage and then the payment secret."""
        _check_request(request.amount_msat, request.expiry_seconds)
        preimage = secrets[:32]
        fields = InvoiceFields(
            amount_msat=request.amount_msat,
            payment_hash=hashlib.sha256(preimage).digest(),
            payment_secret=secrets[32:],
            description=request.memo,
            timestamp=now,
            expiry=request.expiry_seconds,
            description_hash=request.description_hash,
        )
        try:
            bolt11 = encode_invoice(fields, self._node_key())
        except ValueError as error:
            raise WalletError(f"fake wallet: {error}") from error
        return FakeInvoice(
            payment_hash=fields.payment_hash.hex(),
            bolt11=bolt11,
            amount_msat=request.amount_msat,
            memo=request.memo,
            created_at=now,
            expires_at=now + request.expiry_seconds,
            preimage=preimage.hex(),
            extra=dict(request.extra),
        )

    async def get_invoice_status(self, payment_hash: str) -> InvoiceStatus:
        """The invoice's state now; expiry is judged against the wallet's clock."""
        self._check_started()
        invoice = await self._store.lookup(payment_hash)
        if invoice is None:
            return InvoiceStatus(payment_hash, InvoiceState.UNKNOWN)
        return InvoiceStatus(
            payment_hash, self._state_of(invoice), invoice.amount_msat, invoice.settled_at
        )

    def settlements(self) -> AsyncIterator[Settlement]:
        """Settlements from `pay()` made after this call, until `stop()`."""
        return self._hub.subscribe()

    async def cancel_invoice(self, payment_hash: str) -> bool:
        """Cancel a pending invoice so it can no longer be paid."""
        self._check_started()
        return await self._store.cancel(payment_hash)

    async def health(self) -> dict[str, Any]:
        detail = f"node {self.node_pubkey[:16]}…" if self._started else "not started"
        return {"backend": self.name, "ok": self._started, "detail": detail}

    def invoice(self, payment_hash: str) -> FakeInvoice | None:
        """The stored invoice (with its preimage), for wallet services built on this one
        (read in place: the file store only)."""
        return self._file_store().get(payment_hash)

    def invoice_for(self, bolt11: str) -> FakeInvoice | None:
        """The stored invoice for a BOLT11 string this wallet issued, else None."""
        return self._file_store().find(bolt11.strip().lower())

    def _file_store(self) -> FakeStore:
        if not isinstance(self._store, FakeStore):
            raise WalletError("fake wallet: invoices in the database are read with await")
        return self._store

    async def pay(self, bolt11: str) -> Settlement:
        """Settle one of our invoices, as a Lightning payer would; refuse anything else."""
        self._check_started()
        invoice = await self._find(bolt11)
        now = int(self._clock())
        settled = await self._store.settle(invoice.payment_hash, now)
        if settled is None:
            raise self._refusal(await self._store.lookup(invoice.payment_hash) or invoice)
        settlement = Settlement(settled.payment_hash, settled.amount_msat, now, dict(settled.extra))
        logger.info("fake wallet: settled {} ({} msat)", settled.payment_hash, settled.amount_msat)
        self._hub.publish(settlement)
        return settlement

    async def _find(self, bolt11: str) -> FakeInvoice:
        """Our stored invoice for `bolt11`, or the reason it is none of ours."""
        text = bolt11.strip().lower().removeprefix("lightning:")
        invoice = await self._store.lookup_bolt11(text)
        if invoice is not None:
            return invoice
        try:
            decoded = decode_invoice(text)
        except InvoiceDecodeError as error:
            raise MalformedInvoice(f"not a valid BOLT11 invoice: {error}") from None
        raise UnknownInvoice(f"invoice {decoded.payment_hash} was not issued by this fake wallet")

    def _refusal(self, invoice: FakeInvoice) -> WalletError:
        if invoice.state == "settled":
            return InvoiceAlreadyPaid(
                f"invoice {invoice.payment_hash} is already paid (at {invoice.settled_at})"
            )
        if invoice.state == "cancelled":
            return InvoiceNotPayable(f"invoice {invoice.payment_hash} was cancelled")
        return InvoiceNotPayable(f"invoice {invoice.payment_hash} expired at {invoice.expires_at}")

    def _state_of(self, invoice: FakeInvoice) -> InvoiceState:
        if invoice.state == "pending" and self._clock() > invoice.expires_at:
            return InvoiceState.EXPIRED
        return InvoiceState(invoice.state)

    def _commit_soon(self) -> None:
        """Hand the store's batch to its thread once the loop's current turn is over: one
        commit for every invoice minted in that turn instead of one each.
        """
        if not self._commit_scheduled:
            self._commit_scheduled = True
            asyncio.get_running_loop().call_soon(self._commit)

    def _commit(self) -> None:
        self._commit_scheduled = False
        self._store.flush()

    def _node_key(self) -> EcdsaKey:
        if self._key is None:
            self._key = load_node_key(self.data_dir)
        return self._key

    def _check_started(self) -> None:
        if not self._started:
            raise WalletError("fake wallet is not started")


def _new_invoice(invoice: FakeInvoice) -> NewInvoice:
    return NewInvoice(invoice.payment_hash, invoice.bolt11, invoice.amount_msat, invoice.expires_at)


def _check_request(amount_msat: int, expiry_seconds: int) -> None:
    """Refuse amounts and expiries no invoice can carry."""
    if not isinstance(amount_msat, int) or amount_msat <= 0:
        raise WalletError(
            f"fake wallet: amount must be a positive msat integer, got {amount_msat!r}"
        )
    if not isinstance(expiry_seconds, int) or expiry_seconds <= 0:
        raise WalletError(f"fake wallet: expiry must be positive seconds, got {expiry_seconds!r}")
