"""The start-up re-check: look up every unsettled invoice again after a restart.

The order engine passes the payment hashes it still holds as unpaid; what comes
back settled becomes a payment exactly like one from `settlements()` (keyed by
payment hash, so one seen both ways still counts once). A look-up that fails is
returned with its reason, not raised, so one bad invoice cannot hide the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from .base import InvoiceState, InvoiceStatus, Settlement, Wallet, WalletError


@dataclass
class RecheckResult:
    """Statuses by payment hash, and the hashes that could not be looked up (with why)."""

    statuses: dict[str, InvoiceStatus] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def settled(self) -> list[Settlement]:
        """The settled invoices as settlements, ready for the same path as the stream's."""
        return [s for s in map(settlement_of, self.statuses.values()) if s is not None]


def settlement_of(status: InvoiceStatus) -> Settlement | None:
    """A settled status as a Settlement (without the backend's `extra`); else None."""
    if status.state is not InvoiceState.SETTLED or status.amount_msat is None:
        return None
    return Settlement(status.payment_hash, status.amount_msat, status.settled_at or 0)


async def recheck_invoices(
    wallet: Wallet, payment_hashes: Iterable[str], concurrency: int = 8
) -> RecheckResult:
    """Look up each hash once, at most `concurrency` at a time."""
    result = RecheckResult()
    gate = asyncio.Semaphore(concurrency)

    async def look_up(payment_hash: str) -> None:
        async with gate:
            try:
                result.statuses[payment_hash] = await wallet.get_invoice_status(payment_hash)
            except WalletError as error:
                result.failed[payment_hash] = str(error)

    await asyncio.gather(*(look_up(h) for h in dict.fromkeys(payment_hashes)))
    return result
