"""The merchant's actions on an order: ship, complete, cancel, reissue the invoice, record
a refund.

One function per use case, one transaction each; each returns the order as the
API shows it, or raises a domain error the API maps to a status (404 for
`OrderNotFound`, 409 for a state conflict, 422 for `OrderInvalid`).
"""

from __future__ import annotations

from loguru import logger

from ..crud.orders import OrderRow, get_order, load_state
from ..crud.uow import unit_of_work
from ..market.dialect import replies
from ..orders.commands import (
    CancelOrder,
    CompleteOrder,
    OrderCommand,
    RecordRefund,
    ReissueInvoice,
    ShipOrder,
)
from ..orders.errors import OrderError, OrderNotFound
from ..orders.state import OrderItem
from .conversation import announce
from .deps import Deps
from .intake import new_invoice, quote_for
from .invoices import void_unpaid_invoices
from .order_store import Applied, apply_command
from .outgoing import send_replies
from .payments import republish_stock


async def ship_order(
    deps: Deps, merchant_id: str, order_id: str, message: str = "",
    tracking: str | None = None, carrier: str | None = None,
) -> OrderRow:  # fmt: skip
    """Mark a paid order shipped and send the customer the merchant's message (and the
    tracking number and carrier, which a Gamma client shows in their own fields)."""
    command = ShipOrder(message, tracking=tracking or None, carrier=carrier or None)
    await _run(deps, merchant_id, order_id, command, "api:ship")
    return await _row(deps, merchant_id, order_id)


async def complete_order(deps: Deps, merchant_id: str, order_id: str) -> OrderRow:
    """Close a shipped order."""
    await _run(deps, merchant_id, order_id, CompleteOrder(), "api:complete")
    return await _row(deps, merchant_id, order_id)


async def cancel_order(deps: Deps, merchant_id: str, order_id: str, reason: str = "") -> OrderRow:
    """Cancel an unpaid order, release its stock, tell the customer, and cancel its invoice
    at the wallet (where the wallet can), so it can no longer be paid."""
    applied = await _run(deps, merchant_id, order_id, CancelOrder(reason), "api:cancel")
    await void_unpaid_invoices(deps, applied)
    return await _row(deps, merchant_id, order_id)


async def record_refund(deps: Deps, merchant_id: str, order_id: str, note: str = "") -> OrderRow:
    """The merchant gave back the money an order could not take: `RefundRecorded` in the
    log with the merchant's note, the customer told in the order's dialect. An unpaid order
    is closed as `refunded`; a paid one (an extra payment went back) is `paid` again."""
    await _run(deps, merchant_id, order_id, RecordRefund(note), "api:refund")
    return await _row(deps, merchant_id, order_id)


async def reissue_invoice(
    deps: Deps, merchant_id: str, order_id: str, shipping_id: str | None = None
) -> OrderRow:
    """A new invoice at today's prices for an unpaid or expired order; the old one is void.

    Stock is reserved again for an expired order, or `StockUnavailable` says it is gone.
    """
    order = await _row(deps, merchant_id, order_id)
    items = tuple(OrderItem(i["product_id"], i["quantity"]) for i in order.items)
    zone_id = shipping_id or order.zone_id or ""
    _, quote = await quote_for(deps, merchant_id, items, zone_id, order.address)
    invoice = await new_invoice(deps, merchant_id, order_id, quote)
    try:
        await _run(deps, merchant_id, order_id, ReissueInvoice(invoice, quote), "api:reissue")
    except OrderError:
        await _cancel_unused(deps, invoice.payment_hash)
        raise
    return await _row(deps, merchant_id, order_id)


async def _run(
    deps: Deps, merchant_id: str, order_id: str, command: OrderCommand, cause: str
) -> Applied:
    merchant = await deps.merchants.get(merchant_id)
    async with unit_of_work(deps.db) as conn:
        state = await load_state(conn, merchant_id, order_id)
        applied = await apply_command(conn, merchant_id, state, command, cause, deps.now())
        details = applied.after.details
        if details is not None:
            answers = replies(applied.after, applied.events)
            await send_replies(
                conn, merchant, details.customer, details.transport, order_id, answers, deps.now()
            )
        await republish_stock(conn, merchant, applied)
    announce(deps, applied)
    return applied


async def _row(deps: Deps, merchant_id: str, order_id: str) -> OrderRow:
    row = await get_order(deps.db, merchant_id, order_id)
    if row is None:
        raise OrderNotFound(f"order {order_id} not found")
    return row


async def _cancel_unused(deps: Deps, payment_hash: str) -> None:
    """Best effort: an invoice minted for a refused reissue should not be payable."""
    try:
        await deps.wallet.cancel_invoice(payment_hash)
    except Exception as error:  # the order is unchanged either way; just say so
        logger.warning("could not cancel unused invoice {}: {}", payment_hash, error)
