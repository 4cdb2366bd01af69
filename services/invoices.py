"""An order's invoices outside its transaction: voided when the order is cancelled.

A cancelled order's invoice would otherwise stay payable until it expires, and money
paid to it would only make the order `refund_needed`. So once the cancellation is
committed, each invoice of the order that was not paid is cancelled at the wallet.
After the commit, never before: the cancellation is the fact, the wallet call is a
courtesy that may fail (it is logged; a payment that still arrives is
`refund_needed`, as before). The fake wallet then refuses to pay the invoice;
LNbits and NWC have no way to cancel an ordinary invoice, so there it is a no-op.
"""

from __future__ import annotations

from loguru import logger

from ..orders.events import OrderCancelled
from .deps import Deps
from .order_store import Applied


async def void_unpaid_invoices(deps: Deps, applied: Applied) -> int:
    """Cancel at the wallet the unpaid invoices of an order `applied` cancelled; returns
    how many the wallet cancelled."""
    if not any(isinstance(event, OrderCancelled) for event in applied.events):
        return 0
    voided = 0
    for payment_hash in sorted(applied.after.invoices - applied.after.payments):
        try:
            voided += bool(await deps.wallet.cancel_invoice(payment_hash))
        except Exception as error:  # the order is cancelled either way; a late payment is
            logger.warning(  # refund_needed, and the merchant is told then
                "order {}: could not cancel invoice {}: {}",
                applied.after.order_id, payment_hash, error,
            )  # fmt: skip
    return voided
