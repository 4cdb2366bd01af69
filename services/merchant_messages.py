"""Checkout messages that are not customer orders: the merchant's own (seen on a relay)
and a customer's attempt to send what only the merchant may send.

Invariant 6: only messages signed by the merchant's own key (and settled
payments) can move an order to paid or shipped. A customer's type 1 or type 2
is kept in the conversation and rejected with its reason; it changes nothing.
The merchant's own messages are adopted idempotently: our own echoes change
nothing, a second device's or a restored history's move the order, and one
about an order not known yet is parked until the order arrives.
"""

from __future__ import annotations

from ..crud.orders import load_state
from ..crud.outbox import outbox_event_ids
from ..crud.uow import unit_of_work
from ..market.nip15 import PAYMENT_REQUEST, STATUS_UPDATE, PaymentRequest, Reply, StatusUpdate
from ..orders.commands import AdoptInvoice, OrderCommand, RecordMerchantStatus
from ..orders.errors import OrderError
from ..orders.state import Invoice, OrderState, Quote
from ..storage.database import Connection
from ..wallets.invoice_codec import InvoiceDecodeError, decode_invoice
from .conversation import Incoming, Verdict, announce, claim, record_message, settle_verdict
from .deps import Deps
from .order_store import Applied, apply_command
from .outgoing import send_replies

ONLY_MERCHANT = "only the merchant can send payment requests and status updates"


def invoice_from_bolt11(bolt11: str) -> Invoice:
    """Rebuild an invoice from the merchant's own earlier payment request."""
    try:
        # Only ever read from a message the merchant's key signed (checked on ingest),
        # so the invoice's own signature need not be recovered; the checksum is checked.
        decoded = decode_invoice(bolt11, recover_payee=False)
    except InvoiceDecodeError as error:
        raise ValueError(f"not a BOLT11 invoice: {error}") from None
    amount = decoded.amount_msat or 0
    if amount <= 0:
        raise ValueError("the invoice names no amount")
    return Invoice(decoded.payment_hash, bolt11, amount, decoded.timestamp + decoded.expiry)


async def refuse_customer_status(
    deps: Deps, incoming: Incoming, message: PaymentRequest | StatusUpdate, quiet: bool = False
) -> Verdict:
    """A customer sent a type 1 or type 2: keep it, change nothing, and tell them why
    (invariant 10), on the transport they used, in the same transaction (invariant 9).

    `quiet` (a restore) sends nothing: they were told when it first arrived. The reply
    names no order: the order may be someone else's, and its thread is not theirs.
    """
    type_ = PAYMENT_REQUEST if isinstance(message, PaymentRequest) else STATUS_UPDATE
    verdict = Verdict("rejected", f"type {type_} from a customer: {ONLY_MERCHANT}", message.id)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming)
        await record_message(conn, incoming, type_, message.id)
        if not quiet:
            await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                               None, [_not_applied(message.id, type_)], deps.now())  # fmt: skip
        await settle_verdict(conn, incoming, verdict)
    return verdict


def _not_applied(order_id: str, type_: int) -> Reply:
    kind = "payment request" if type_ == PAYMENT_REQUEST else "status update"
    text = (
        f"Your {kind} (NIP-15 type {type_}) about order {order_id} was not applied: "
        f"{ONLY_MERCHANT}. To order, send a type 0 order; to ask something, send plain text."
    )
    return Reply(-1, text)


async def record_outgoing(
    deps: Deps, incoming: Incoming, message: PaymentRequest | StatusUpdate | None
) -> Verdict:
    """The merchant's own message seen on a relay: record it, and adopt what it says."""
    applied: Applied | None = None
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming, verdict="outgoing")
        ours = incoming.inbox_id in await outbox_event_ids(conn, [incoming.inbox_id or ""])
        verdict = Verdict("outgoing")
        if message is not None and not ours:
            applied, verdict = await apply_merchant_message(conn, deps, incoming, message)
        type_ = -1 if message is None else _type(message)
        await record_message(conn, incoming, type_, None if message is None else message.id)
        await settle_verdict(conn, incoming, verdict)
    if applied is not None:
        announce(deps, applied)
    return verdict


def _type(message: PaymentRequest | StatusUpdate) -> int:
    return PAYMENT_REQUEST if isinstance(message, PaymentRequest) else STATUS_UPDATE


async def apply_merchant_message(
    conn: Connection,
    deps: Deps,
    incoming: Incoming,
    message: PaymentRequest | StatusUpdate,
    quiet: bool = True,
    state: OrderState | None = None,
) -> tuple[Applied | None, Verdict]:
    """Adopt the merchant's payment request or status update; park it if the order is unknown.

    `state` is the order as the caller's transaction has it already (else it is read).
    """
    merchant_id, order_id = incoming.merchant.id, message.id
    if state is None:
        state = await load_state(conn, merchant_id, order_id)
    if state.status is None:
        return None, Verdict("parked", "waiting for the order to arrive", order_id)
    command = _command(state, message)
    if command is None:
        return None, Verdict("outgoing", None, order_id)
    try:
        applied = await apply_command(conn, merchant_id, state, command, incoming.cause, deps.now())
    except OrderError as error:
        return None, Verdict("outgoing", f"not applied: {error}", order_id)
    return applied, Verdict("outgoing", None, order_id)


def _command(state: OrderState, message: PaymentRequest | StatusUpdate) -> OrderCommand | None:
    if isinstance(message, StatusUpdate):
        text = message.message
        if message.status == "cancelled":  # the reason, as `replies` wrote it
            text = text.removeprefix(f"Order {message.id} was cancelled.").strip()
        return RecordMerchantStatus(message.paid, message.shipped, text, message.status)
    if message.lightning is None:
        return None
    try:
        invoice = invoice_from_bolt11(message.lightning)
    except ValueError:
        return None
    quote = state.quote
    if quote is None or quote.total_msat != invoice.amount_msat:
        zone = quote.zone_id if quote else None
        quote = Quote(zone, invoice.amount_msat, 0, invoice.amount_msat)
    return AdoptInvoice(invoice, quote)
