"""Money in and time out: settled payments, expired invoices, and the start-up re-check.

A payment is keyed by its hash (the `payments` primary key, written in the same
transaction as the order's change), so a settlement reported twice, by the
stream and by a look-up, counts once. Money for an order that cannot take it
(cancelled, expired with the stock gone, already paid) makes the order
`refund_needed` and tells the merchant, with amount and hash: never dropped.
"""

from __future__ import annotations

import time

from loguru import logger

from ..crud import invoices as invoices_crud
from ..crud.lnurl import find_address_invoice
from ..crud.order_catalogue import autoreplies
from ..crud.orders import load_state, order_product_ids
from ..crud.uow import unit_of_work
from ..market import dialect
from ..orders.commands import ExpireInvoice, ReceivePayment
from ..orders.errors import OrderError, PaymentAlreadyRecorded
from ..orders.events import OrderPaid, RefundNeeded, StockReleased, StockSold
from ..storage.database import Connection
from ..wallets.base import InvoiceState, Settlement, WalletError
from .catalogue_publish import enqueue_product_update
from .conversation import announce
from .deps import Deps, Merchant, MerchantNotFound
from .notifications import PAYMENT_UNMATCHED, REFUND_NEEDED, Note, Notifier
from .order_store import Applied, apply_command
from .outgoing import send_replies


async def receive_payment(deps: Deps, settlement: Settlement) -> Applied | None:
    """Apply a settled payment exactly once; None when it changed nothing (seen before)."""
    ref = await invoices_crud.find_invoice(deps.db, settlement.payment_hash)
    if ref is None:
        await _unmatched(deps, settlement)
        return None
    merchant = await deps.merchants.get(ref.merchant_id)
    product_ids = await order_product_ids(deps.db, merchant.id, ref.order_id)
    extra = await autoreplies(deps.db, merchant.id, product_ids)
    command = ReceivePayment(settlement.payment_hash, settlement.amount_msat)
    async with unit_of_work(deps.db) as conn:
        applied = await _apply(conn, deps, merchant, ref.order_id, command)
        if applied is None:
            return None
        await _tell_customer(conn, deps, merchant, applied, extra)
        await republish_stock(conn, merchant, applied)
        notifier = Notifier.from_deps(deps)
        notes = [
            await notifier.record(conn, merchant.id, _refund_note(applied.after.order_id, event))
            for event in applied.events
            if isinstance(event, RefundNeeded)
        ]
    announce(deps, applied)
    notifier.announce(notes)
    return applied


def _refund_note(order_id: str, event: RefundNeeded) -> Note:
    sats = event.amount_msat / 1000
    return Note(
        REFUND_NEEDED, "high", f"Order {order_id} needs a refund of {sats:g} sats",
        f"{event.reason}. Payment hash {event.payment_hash}.", "order", order_id,
        f"refund:{order_id}:{event.payment_hash}",
    )  # fmt: skip


async def _apply(
    conn: Connection, deps: Deps, merchant: Merchant, order_id: str, command: ReceivePayment
) -> Applied | None:
    if await invoices_crud.payment_recorded(conn, command.payment_hash):
        return None
    state = await load_state(conn, merchant.id, order_id)
    cause = f"payment:{command.payment_hash}"
    try:
        return await apply_command(conn, merchant.id, state, command, cause, deps.now())
    except PaymentAlreadyRecorded:
        return None


async def _tell_customer(
    conn: Connection, deps: Deps, merchant: Merchant, applied: Applied, extra: list[str]
) -> None:
    """The paid message (or the refund note), then each product's autoreply."""
    after = applied.after
    if after.details is None:
        return
    details = after.details
    answers = dialect.replies(after, applied.events)
    if any(isinstance(e, OrderPaid) for e in applied.events):
        answers += [dialect.note(details.dialect, text, after.order_id) for text in extra]
    await send_replies(
        conn, merchant, details.customer, details.transport, after.order_id, answers, deps.now()
    )


async def republish_stock(conn: Connection, merchant: Merchant, applied: Applied) -> None:
    """Stock changed hands: publish each product's 30018 again with its quantity."""
    if not any(isinstance(e, StockSold | StockReleased) for e in applied.events):
        return
    for item in applied.after.items:
        await enqueue_product_update(conn, merchant.key, merchant.id, item.product_id)


async def _unmatched(deps: Deps, settlement: Settlement) -> None:
    """Money for an invoice we do not know: keep a record and say so loudly. Money paid to
    a lightning address waits for the buyer's receipt to name its order (`gamma_orders`)."""
    if await find_address_invoice(deps.db, settlement.payment_hash) is not None:
        logger.info("payment {} to a lightning address awaits a receipt", settlement.payment_hash)
        return
    logger.warning(
        "payment {} of {} msat matches no invoice; recorded as unmatched",
        settlement.payment_hash,
        settlement.amount_msat,
    )
    record = invoices_crud.PaymentRecord(
        settlement.payment_hash, None, None, settlement.amount_msat, "wallet", "unmatched",
        settlement.settled_at,
    )  # fmt: skip
    notifier = Notifier.from_deps(deps)
    merchant_ids = await _whose(deps, settlement)
    async with unit_of_work(deps.db) as conn:
        seen = await invoices_crud.payment_recorded(conn, settlement.payment_hash)
        if not seen:
            await invoices_crud.insert_payments(conn, [record], deps.now())
        note = _unmatched_note(settlement)
        notes = [] if seen else [await notifier.record(conn, m, note) for m in merchant_ids]
    notifier.announce(notes)


async def _whose(deps: Deps, settlement: Settlement) -> list[str]:
    """The merchant the invoice was made for (its `extra`), or, if it names none we know,
    every active merchant: the money is in the wallet they all are paid through."""
    named = settlement.extra.get("merchant_id")
    if isinstance(named, str):
        try:
            return [(await deps.merchants.get(named)).id]
        except MerchantNotFound:
            pass
    return [merchant.id for merchant in await deps.merchants.active()]


def _unmatched_note(settlement: Settlement) -> Note:
    sats = settlement.amount_msat / 1000
    return Note(
        PAYMENT_UNMATCHED, "high", f"A payment of {sats:g} sats matches no order",
        f"Payment hash {settlement.payment_hash}: no invoice of ours has it. It is recorded;"
        " find its payer, or refund it.", "payment", settlement.payment_hash,
        f"unmatched:{settlement.payment_hash}",
    )  # fmt: skip


async def expire_invoice(deps: Deps, ref: invoices_crud.InvoiceRef) -> Applied | None:
    """The invoice's time is up: release the stock and tell the customer; None if moot."""
    merchant = await deps.merchants.get(ref.merchant_id)
    async with unit_of_work(deps.db) as conn:
        state = await load_state(conn, merchant.id, ref.order_id)
        command = ExpireInvoice(ref.payment_hash)
        try:
            applied = await apply_command(
                conn, merchant.id, state, command, "timer:expiry", deps.now()
            )
        except OrderError as moot:  # paid or reissued meanwhile: nothing to expire
            logger.debug("not expiring {}: {}", ref.payment_hash, moot)
            return None
        await _tell_customer(conn, deps, merchant, applied, [])
        await republish_stock(conn, merchant, applied)
    announce(deps, applied)
    return applied


async def expire_due(deps: Deps, limit: int = 500) -> int:
    """Expire every current invoice past its time; how many orders expired."""
    due = await invoices_crud.due_invoices(deps.db, deps.now(), limit)
    expired = [await expire_invoice(deps, ref) for ref in due]
    return sum(applied is not None for applied in expired)


async def recheck_unsettled(deps: Deps, merchant_id: str | None = None) -> int:
    """At start-up (and after a restore): ask the wallet about every unsettled invoice and
    apply what was paid meanwhile; how many payments were applied."""
    applied = 0
    for ref in await invoices_crud.unsettled_invoices(deps.db):
        if merchant_id is not None and ref.merchant_id != merchant_id:
            continue
        try:
            status = await deps.wallet.get_invoice_status(ref.payment_hash)
        except WalletError as error:
            logger.warning("cannot re-check invoice {}: {}", ref.payment_hash, error)
            continue
        if status.state is InvoiceState.SETTLED:
            amount = status.amount_msat or ref.amount_msat
            settled_at = status.settled_at or int(time.time())
            result = await receive_payment(deps, Settlement(ref.payment_hash, amount, settled_at))
            applied += result is not None
    return applied
