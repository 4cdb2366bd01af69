"""What only Gamma buyers send: payment receipts (kind 17), cancellations, the public marker.

A receipt is a claim, never proof (invariant 6): it is accepted only when its
invoice is one this merchant issued (the order's own, or one minted for the
merchant's lightning address), the wallet says it is settled, it covers the
order's total, and it was never used for another order. The order then becomes
paid through the same exactly-once path as a wallet settlement (the payment
hash is the `payments` primary key; a lightning-address invoice is claimed for
one order in the same transaction). Anything else is answered with the reason
and changes nothing. A buyer's `cancelled` cancels an unpaid order and releases
its stock, like the merchant's cancel. In a restore neither is replayed: the
merchant's own messages say what became of the order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..crud.invoices import find_invoice
from ..crud.lnurl import claim_address_invoice, find_address_invoice
from ..crud.orders import OrderRow, get_order, load_state
from ..crud.uow import unit_of_work
from ..market import dialect
from ..market.gamma import BuyerCancel, OrderMarker, Receipt
from ..market.nip15 import STATUS_UPDATE, format_sats
from ..orders.commands import CancelOrder, OrderCommand, ReceiveAddressPayment
from ..orders.errors import OrderError
from ..storage.database import Connection
from ..wallets.base import InvoiceState, Settlement, WalletError
from ..wallets.invoice_codec import InvoiceDecodeError, decode_invoice
from .conversation import Incoming, Verdict, announce, claim, record_message, settle_verdict
from .deps import Deps
from .intake import WalletUnavailable
from .invoices import void_unpaid_invoices
from .order_store import Applied, apply_command
from .outgoing import send_replies
from .payments import receive_payment, republish_stock

MARKER = "a public order marker: the gift-wrapped order places the order"
RESTORED = "restore: not replayed; the merchant's own messages say what it did"


class Refused(Exception):
    """The buyer's message changes nothing; the message says why, for the buyer."""


@dataclass(frozen=True)
class _Payment:
    """A receipt's payment, as this merchant's records and its wallet know it."""

    payment_hash: str
    amount_msat: int
    settled_at: int
    to_address: bool  # paid to the lightning address, not to one of the order's invoices


async def note_marker(deps: Deps, incoming: Incoming, marker: OrderMarker) -> Verdict:
    """Keep a public order marker in the inbox, under its order id; nothing else happens."""
    verdict = Verdict("ignored", MARKER, marker.id or None)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming, verdict="ignored")
        await settle_verdict(conn, incoming, verdict, expected=("ignored",))
    return verdict


async def receive_gamma(
    deps: Deps, incoming: Incoming, message: Receipt | BuyerCancel, restore: bool = False
) -> Verdict:
    """A buyer's receipt or cancellation (only recorded in a restore)."""
    if restore:
        return await _record(deps, incoming, message.id, Verdict("ignored", RESTORED, message.id))
    try:
        if isinstance(message, BuyerCancel):
            return await _cancel(deps, incoming, message)
        return await _receipt(deps, incoming, message)
    except Refused as refused:
        return await _refuse(deps, incoming, message, str(refused))


async def _record(deps: Deps, incoming: Incoming, order_id: str, verdict: Verdict) -> Verdict:
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming)
        await record_message(conn, incoming, STATUS_UPDATE, order_id)
        await settle_verdict(conn, incoming, verdict)
    return verdict


async def _refuse(
    deps: Deps, incoming: Incoming, message: Receipt | BuyerCancel, reason: str
) -> Verdict:
    """Keep the message, change nothing, and tell the buyer why (invariants 6 and 10)."""
    what = "receipt" if isinstance(message, Receipt) else "cancellation"
    text = f"Your {what} for order {message.id} was not applied: {reason}."
    verdict = Verdict("rejected", reason, message.id)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming)
        await record_message(conn, incoming, STATUS_UPDATE, message.id)
        reply = dialect.note(incoming.dialect, text, message.id)
        await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                           message.id, [reply], deps.now())  # fmt: skip
        await settle_verdict(conn, incoming, verdict)
    return verdict


# -- a buyer cancels -------------------------------------------------------------------------


async def _cancel(deps: Deps, incoming: Incoming, cancel: BuyerCancel) -> Verdict:
    reason = cancel.reason.strip() or "cancelled by the customer"
    order = await _their_order(deps, incoming, cancel.id)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming)
        applied = await _apply(conn, deps, incoming, order.id, CancelOrder(reason))
        await _answer(conn, deps, incoming, applied)
        await record_message(conn, incoming, STATUS_UPDATE, order.id)
        await settle_verdict(conn, incoming, Verdict("processed", None, order.id))
    announce(deps, applied)
    await void_unpaid_invoices(deps, applied)
    return Verdict("processed", None, order.id)


async def _their_order(deps: Deps, incoming: Incoming, order_id: str) -> OrderRow:
    """The order, if it is this buyer's; the same refusal whether it is unknown or not theirs."""
    order = await get_order(deps.db, incoming.merchant.id, order_id)
    if order is None or order.public_key != incoming.customer:
        raise Refused(f"there is no order {order_id} of yours here")
    return order


async def _apply(
    conn: Connection, deps: Deps, incoming: Incoming, order_id: str, command: OrderCommand
) -> Applied:
    state = await load_state(conn, incoming.merchant.id, order_id)
    try:
        return await apply_command(
            conn, incoming.merchant.id, state, command, incoming.cause, deps.now()
        )
    except OrderError as error:  # rolls the unit back; the refusal is written afresh
        raise Refused(str(error)) from None


async def _answer(conn: Connection, deps: Deps, incoming: Incoming, applied: Applied) -> None:
    """What the change owes the buyer, in the order's dialect; stock republished."""
    details = applied.after.details
    if details is not None:
        answers = dialect.replies(applied.after, applied.events)
        await send_replies(conn, incoming.merchant, details.customer, details.transport,
                           applied.after.order_id, answers, deps.now())  # fmt: skip
    await republish_stock(conn, incoming.merchant, applied)


# -- a buyer's receipt -----------------------------------------------------------------------


async def _receipt(deps: Deps, incoming: Incoming, receipt: Receipt) -> Verdict:
    order = await _their_order(deps, incoming, receipt.id)
    payment = await _verified(deps, incoming, receipt, order)
    if not payment.to_address:
        settlement = Settlement(payment.payment_hash, payment.amount_msat, payment.settled_at)
        applied = await receive_payment(deps, settlement)  # exactly once, by payment hash
        if applied is None:
            raise Refused(f"this payment was already counted for order {order.id}")
        return await _record(deps, incoming, order.id, Verdict("processed", None, order.id))
    return await pay_by_address(deps, incoming, order.id, payment.payment_hash,
                                payment.amount_msat)  # fmt: skip


async def pay_by_address(
    deps: Deps, incoming: Incoming, order_id: str, payment_hash: str, amount_msat: int,
    claim_inbox: bool = True,
) -> Verdict:  # fmt: skip
    """Claim a settled lightning-address invoice for `order_id` and pay the order with it,
    in one transaction (the invoice serves one order, once); `Refused` if it was taken."""
    command = ReceiveAddressPayment(payment_hash, amount_msat)
    async with unit_of_work(deps.db) as conn:
        if claim_inbox:
            await claim(conn, incoming)
        if not await claim_address_invoice(conn, incoming.merchant.id, payment_hash, order_id):
            raise Refused("the invoice was already used for an order")
        applied = await _apply(conn, deps, incoming, order_id, command)
        await _answer(conn, deps, incoming, applied)
        if claim_inbox:
            await record_message(conn, incoming, STATUS_UPDATE, order_id)
            await settle_verdict(conn, incoming, Verdict("processed", None, order_id))
    announce(deps, applied)
    return Verdict("processed", None, order_id)


async def _verified(deps: Deps, incoming: Incoming, receipt: Receipt, order: OrderRow) -> _Payment:
    """The receipt's invoice as this merchant issued it, settled says the wallet; or `Refused`."""
    payment_hash = receipt.payment_hash or _payment_hash(receipt.bolt11)
    if receipt.bolt11 and receipt.payment_hash and _payment_hash(receipt.bolt11) != payment_hash:
        raise Refused("the payment hash is not the invoice's")
    own = await find_invoice(deps.db, payment_hash)
    if own is not None and own.merchant_id == incoming.merchant.id:
        if own.order_id != order.id:
            raise Refused("the invoice is for another order")
        amount, to_address = own.amount_msat, False
    else:
        amount, to_address = await _address_amount(deps, incoming, receipt, order), True
    settled_at = await _settled(deps, payment_hash)
    return _Payment(payment_hash, amount, settled_at, to_address)


def _payment_hash(bolt11: str) -> str:
    try:
        return decode_invoice(bolt11, recover_payee=False).payment_hash
    except InvoiceDecodeError as error:
        raise Refused(f"the payment is not a BOLT11 invoice ({error})") from None


async def _address_amount(deps: Deps, incoming: Incoming, receipt: Receipt, order: OrderRow) -> int:
    """The amount of a lightning-address invoice that may pay `order`, or `Refused`."""
    found = await find_address_invoice(
        deps.db, receipt.payment_hash or _payment_hash(receipt.bolt11)
    )
    if found is None or found.merchant_id != incoming.merchant.id:
        raise Refused("the invoice was not issued by this merchant")
    named = receipt.bolt11.lower().removeprefix("lightning:")
    if named and found.bolt11.lower() != named:
        raise Refused("the invoice was not issued by this merchant")
    if found.used_by_order is not None:
        raise Refused("the invoice was already used for an order")
    if found.amount_msat < order.total_msat:
        raise Refused(
            f"the invoice is for {format_sats(found.amount_msat)}, "
            f"the order costs {format_sats(order.total_msat)}"
        )
    if order.paid:
        raise Refused(f"order {order.id} is already paid")
    return found.amount_msat


async def _settled(deps: Deps, payment_hash: str) -> int:
    """When the wallet says the invoice was paid; `Refused` if it was not (yet)."""
    try:
        status = await deps.wallet.get_invoice_status(payment_hash)
    except WalletError as error:  # the receipt waits and is tried again
        raise WalletUnavailable(f"wallet could not check an invoice: {error}") from error
    if status.state is not InvoiceState.SETTLED:
        raise Refused(f"the wallet has not received this payment (the invoice is {status.state})")
    return status.settled_at or int(time.time())
