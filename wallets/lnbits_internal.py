"""LNbits' own wallets, from inside LNbits (the extension): no HTTP, no keys of ours.

Each merchant belongs to an LNbits wallet (`wallet_of(merchant_id)` names it, from the
merchant's account). Invoices are made by LNbits' payment service in that wallet,
tagged `nostrbazaar` in their `extra`; settlements arrive through LNbits' invoice
listener (every incoming payment of the instance: only ours are passed on) and go to
the order engine's settlement stream, which applies each payment hash once. A payment
that arrives while nothing reads the stream is found again by the start-up re-check
(`get_invoice_status`).

LNbits counts in whole satoshis: an amount that is not a whole number of sats is
rounded up, as `wallets.lnbits` does.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from loguru import logger

from .base import (
    InvoiceRequest,
    InvoiceState,
    InvoiceStatus,
    NewInvoice,
    Settlement,
    WalletError,
)
from .minting import create_invoices_concurrently
from .stream import SettlementHub

TAG = "nostrbazaar"
LISTENER = "ext_nostrbazaar"
WalletOf = Callable[[str], Awaitable[str]]


class LNbitsInternalWallet:
    """Invoices in each merchant's own LNbits wallet, through LNbits' services."""

    name = "lnbits-internal"

    def __init__(self, wallet_of: WalletOf, clock: Callable[[], float] = time.time) -> None:
        self._wallet_of = wallet_of
        self._clock = clock
        self._hub = SettlementHub()
        self._listener: Any = None  # lnbits.task_manager.Task

    async def start(self) -> None:
        """Listen to LNbits' incoming payments (a named listener: a restart replaces it)."""
        from lnbits.task_manager import task_manager

        self._hub.reopen()
        self._listener = task_manager.register_invoice_listener(self._on_payment, LISTENER)

    async def stop(self) -> None:
        from lnbits.task_manager import task_manager

        if self._listener is not None and self._listener in task_manager.tasks:
            task_manager.cancel_task(self._listener)
        self._listener = None
        self._hub.close()

    async def _on_payment(self, payment: Any) -> None:
        """LNbits calls this for every incoming payment it settles; ours go on."""
        extra = payment.extra or {}
        if extra.get("tag") != TAG or not payment.success:
            return
        logger.debug("LNbits settled {} ({} msat)", payment.payment_hash, payment.amount)
        self._hub.publish(
            Settlement(payment.payment_hash, int(payment.amount), int(self._clock()), dict(extra))
        )

    async def create_invoice(
        self, amount_msat: int, memo: str, expiry_seconds: int, extra: dict[str, Any] | None = None
    ) -> NewInvoice:
        """An invoice in the LNbits wallet of `extra["merchant_id"]`."""
        from lnbits.core.services import create_invoice

        details = dict(extra or {})
        merchant_id = details.get("merchant_id")
        if not isinstance(merchant_id, str):
            raise WalletError("lnbits-internal: an invoice needs the merchant it is for")
        sats = -(-amount_msat // 1000)
        try:
            payment = await create_invoice(
                wallet_id=await self._wallet_of(merchant_id),
                amount=sats,
                memo=memo,
                expiry=expiry_seconds,
                extra={**details, "tag": TAG},
            )
        except Exception as error:  # LNbits raises its own InvoiceError, ValueError, ...
            raise WalletError(f"LNbits could not create the invoice: {error}") from error
        expires_at = _timestamp(payment.expiry) or int(self._clock()) + expiry_seconds
        return NewInvoice(payment.payment_hash, payment.bolt11, sats * 1000, expires_at)

    async def create_invoices(
        self, requests: Sequence[InvoiceRequest]
    ) -> list[NewInvoice | WalletError]:
        """One `create_invoice` each, a few at a time (LNbits has no batch call)."""
        return await create_invoices_concurrently(self, requests)

    async def get_invoice_status(self, payment_hash: str) -> InvoiceStatus:
        """The invoice as LNbits has it: settled, pending, expired, or unknown."""
        from lnbits.core.crud import get_standalone_payment

        payment = await get_standalone_payment(payment_hash, incoming=True)
        if payment is None:
            return InvoiceStatus(payment_hash, InvoiceState.UNKNOWN)
        if payment.success:
            return InvoiceStatus(
                payment_hash, InvoiceState.SETTLED, int(payment.amount), _timestamp(payment.time)
            )
        expired = payment.failed or (payment.pending and payment.is_expired)
        state = InvoiceState.EXPIRED if expired else InvoiceState.PENDING
        return InvoiceStatus(payment_hash, state, int(payment.amount))

    def settlements(self) -> AsyncIterator[Settlement]:
        return self._hub.subscribe()

    async def cancel_invoice(self, payment_hash: str) -> bool:
        """LNbits cannot cancel an invoice: money that arrives anyway is refund_needed."""
        return False

    async def health(self) -> dict[str, Any]:
        ok = self._listener is not None
        detail = "LNbits' own wallets" if ok else "not started"
        return {"backend": self.name, "ok": ok, "detail": detail}


def _timestamp(value: datetime | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)
