"""A customer's order (NIP-15 type 0, Gamma type 1) becomes an order with an invoice, or a
refusal, answered in the dialect it came in (`market.dialect`).

Everything slow or fallible happens before the transaction: reading the
catalogue, pricing, and asking the wallet for an invoice (an unused invoice is
harmless). The transaction then claims the inbox row, decides, reserves stock,
appends events, writes projections and queues the answer, all or nothing.
Every order gets an answer: a payment request, or the reason it was refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from ..crud.order_catalogue import default_zone, load_catalogue
from ..crud.orders import placement
from ..crud.reservations import count_new_customer_holds, is_returning, product_holds
from ..crud.uow import unit_of_work
from ..market import dialect
from ..market.nip15 import ORDER, MessageError, OrderMessage, PaymentRequest
from ..orders.commands import OrderCommand, PlaceOrder, RejectOrder
from ..orders.errors import DuplicateOrder, OrderError, OrderIdTaken
from ..orders.holds import ProductHolds, check_share, crowded, invoice_expiry
from ..orders.machine import decide, fold
from ..orders.pricing import Catalogue, OrderInvalid, check_order, price_order
from ..orders.state import Invoice, OrderDetails, OrderItem, OrderState, Quote
from ..storage.database import Connection
from ..wallets.base import WalletError
from .conversation import (
    AlreadyHandled,
    Incoming,
    Verdict,
    announce,
    claim,
    record_message,
    settle_verdict,
)
from .deps import Deps
from .merchant_messages import apply_merchant_message
from .order_drafts import (
    ParkedReply,
    answered_before,
    draft_command,
    needs_invoice,
    order_details,
)
from .order_store import Applied, apply_command
from .outgoing import NIP17, Presealed, preseal, send_replies


class WalletUnavailable(RuntimeError):
    """The wallet could not issue an invoice; the order waits and is tried again."""


ParkedLoader = Callable[[str], Awaitable[list[ParkedReply]]]


async def place_order(
    deps: Deps,
    incoming: Incoming,
    msg: OrderMessage,
    load_parked: ParkedLoader | None = None,
    quiet: bool = False,
) -> Verdict:
    """Turn a customer's order into an order awaiting payment, or refuse it with a reason.

    When messages from the merchant's own key about this order arrived first (a
    restore, a second device), `load_parked` opens them: the first payment request
    is adopted instead of issuing a new invoice, the rest are applied after it.
    """
    product_ids = [item.product_id for item in msg.items]
    if not msg.shipping_id:  # Shopstr names no shipping option, Conduit may not
        zone = await default_zone(deps.db, incoming.merchant.id, product_ids[0])
        msg = replace(msg, shipping_id=zone or "none")
    details = order_details(incoming, msg)
    catalogue = await load_catalogue(
        deps.db, incoming.merchant.id, product_ids, msg.shipping_id, msg.id
    )
    parked = await load_parked(msg.id) if catalogue.parked and load_parked else []
    adopted = next((p for p in parked if isinstance(p.message, PaymentRequest)), None)
    command = await _command(deps, incoming, msg, details, adopted, catalogue)
    rest = [p for p in parked if p is not adopted]
    silent = quiet or answered_before(command, adopted)
    presealed = None if silent else await _preseal(deps, incoming, msg.id, command)
    async with unit_of_work(deps.db) as conn:
        applied, verdict = await _place(conn, deps, incoming, msg.id, command, silent, presealed)
        if applied is not None:
            await settle_adopted(conn, adopted, msg.id)
            await apply_parked(conn, deps, applied, rest)
        await record_message(conn, incoming, ORDER, msg.id)
        await settle_verdict(conn, incoming, verdict)
    if applied is not None:
        announce(deps, applied)
    return verdict


async def _command(
    deps: Deps,
    incoming: Incoming,
    msg: OrderMessage,
    details: OrderDetails,
    adopted: ParkedReply | None,
    catalogue: Catalogue,
) -> OrderCommand:
    """Price the order and get its invoice (new, or the merchant's earlier one)."""
    command = draft_command(deps, incoming, msg, details, adopted, catalogue)
    if needs_invoice(command):
        assert isinstance(command, PlaceOrder)
        invoice = await _new_invoice(deps, incoming, msg.id, command.quote)
        command = replace(command, invoice=invoice)
    return command


async def _preseal(
    deps: Deps, incoming: Incoming, order_id: str, command: OrderCommand
) -> Presealed | None:
    """Seal the replies a new order is expected to get, before its transaction.

    Only for NIP-17, whose two gift wraps cost far more than the rest of the
    transaction; a NIP-04 reply is sealed in the transaction in microseconds.
    """
    if incoming.transport != NIP17:
        return None
    try:
        events = decide(OrderState(order_id), command)
    except OrderError:
        return None  # not a new order: whatever it gets is decided in the transaction
    expected = dialect.replies(fold(order_id, events), events)
    return await preseal(deps.db, incoming.merchant, incoming.customer, NIP17, expected,
                         deps.now())  # fmt: skip


async def quote_for(
    deps: Deps,
    merchant_id: str,
    items: tuple[OrderItem, ...],
    zone_id: str,
    address: str | None,
) -> tuple[str, Quote]:
    """Check items and zone against the catalogue as it is now; the stall and the price."""
    product_ids = [item.product_id for item in items]
    catalogue = await load_catalogue(deps.db, merchant_id, product_ids, zone_id)
    stall_id = check_order(items, zone_id, address, catalogue)
    return stall_id, price_order(items, stall_id, catalogue, deps.rates)


async def _new_invoice(deps: Deps, incoming: Incoming, order_id: str, quote: Quote) -> Invoice:
    """A customer with no paid order here gets a shorter invoice (and reservation)."""
    settings, merchant_id = deps.settings, incoming.merchant.id
    returning = await is_returning(deps.db, merchant_id, incoming.customer)
    expiry = invoice_expiry(
        settings.invoice_expiry_seconds, settings.new_customer_expiry_seconds, returning
    )
    return await new_invoice(deps, merchant_id, order_id, quote, expiry)


async def new_invoice(
    deps: Deps, merchant_id: str, order_id: str, quote: Quote, expiry: int | None = None
) -> Invoice:
    """Ask the wallet for an invoice of the quoted total, lasting `expiry` seconds (the
    standard expiry when not given); `WalletUnavailable` if it cannot."""
    extra = {"merchant_id": merchant_id, "order_id": order_id}
    seconds = deps.settings.invoice_expiry_seconds if expiry is None else expiry
    try:
        new = await deps.wallet.create_invoice(
            quote.total_msat, f"Order {order_id}", seconds, extra
        )
    except WalletError as error:
        raise WalletUnavailable(f"wallet could not issue an invoice: {error}") from error
    return Invoice(new.payment_hash, new.bolt11, new.amount_msat, new.expires_at)


async def _place(
    conn: Connection,
    deps: Deps,
    incoming: Incoming,
    order_id: str,
    command: OrderCommand,
    quiet: bool,
    presealed: Presealed | None = None,
) -> tuple[Applied | None, Verdict]:
    """Claim the inbox row, then apply the place/reject command, refusing duplicates,
    taken ids and floods."""
    merchant, customer = incoming.merchant, incoming.customer
    ctx = await placement(conn, merchant.id, order_id, customer, incoming.inbox_id)
    if not ctx.claimed:
        raise AlreadyHandled(incoming.inbox_id or "")
    if isinstance(command, PlaceOrder) and not command.adopted:
        command = flood_checked(deps, ctx.open_orders, command)
        command = await _share_checked(conn, deps, merchant.id, command)
    try:
        applied = await apply_command(conn, merchant.id, ctx.state, command, incoming.cause,
                                      deps.now())  # fmt: skip
    except DuplicateOrder as duplicate:
        return None, Verdict("ignored", str(duplicate), order_id)
    except OrderIdTaken as taken:
        reply = dialect.refusal(incoming.dialect, order_id, str(taken))
        await send_replies(conn, merchant, customer, incoming.transport, order_id, [reply],
                           deps.now(), ctx.last_stamp)  # fmt: skip
        return None, Verdict("rejected", str(taken), order_id)
    if not quiet:
        answers = dialect.replies(applied.after, applied.events)
        await send_replies(conn, merchant, customer, incoming.transport, order_id, answers,
                           deps.now(), ctx.last_stamp, presealed)  # fmt: skip
    reason = applied.after.reason if applied.after.status == "rejected" else None
    return applied, Verdict("rejected" if reason else "processed", reason, order_id)


def flood_checked(deps: Deps, open_orders: int, command: PlaceOrder) -> OrderCommand:
    """Refuse a customer who already has the maximum of unpaid orders open."""
    limit = deps.settings.max_open_orders_per_customer
    if open_orders < limit:
        return command
    reason = f"you already have {limit} unpaid orders; pay or let one expire first"
    return RejectOrder(command.details, reason)


async def _share_checked(
    conn: Connection, deps: Deps, merchant_id: str, command: OrderCommand
) -> OrderCommand:
    """Refuse a new customer's order that would push the stock held by new customers'
    unpaid orders above its share; read in the same unit of work as the reservation."""
    share = deps.settings.new_customer_stock_share
    if not isinstance(command, PlaceOrder) or share >= 100:
        return command
    details = command.details
    product_ids = [item.product_id for item in details.items]
    returning, holds = await product_holds(conn, merchant_id, details.customer, product_ids)
    if returning:
        return command
    return await share_rule(conn, deps, merchant_id, command, holds)


async def share_rule(
    conn: Connection,
    deps: Deps,
    merchant_id: str,
    command: PlaceOrder,
    holds: dict[str, ProductHolds],
) -> OrderCommand:
    """The share rule for a new customer's order, on the products' `holds`; the units new
    customers hold are counted in the database only where the rule is close."""
    share, details = deps.settings.new_customer_stock_share, command.details
    to_count = crowded(details.items, holds, share)
    if to_count:
        holds = await count_new_customer_holds(conn, merchant_id, holds, to_count)
    try:
        check_share(details.items, holds, share, deps.now())
    except OrderInvalid as invalid:
        return RejectOrder(details, invalid.reason)
    return command


async def settle_adopted(conn: Connection, adopted: ParkedReply | None, order_id: str) -> None:
    """The merchant's earlier payment request now stands for the order: no longer parked."""
    if adopted is not None:
        verdict = Verdict("outgoing", None, order_id)
        await settle_verdict(conn, adopted.incoming, verdict, expected=("parked",))


async def apply_parked(
    conn: Connection, deps: Deps, applied: Applied, parked: Sequence[ParkedReply]
) -> OrderState:
    """Apply the merchant's own later messages about this order, which were waiting for it."""
    state = applied.after  # as folding the log inside this transaction would give it
    for reply in parked:
        done, verdict = await apply_merchant_message(
            conn, deps, reply.incoming, reply.message, state=state
        )
        state = done.after if done is not None else state
        await settle_verdict(conn, reply.incoming, verdict, expected=("parked",))
    return state


async def reject_order(
    deps: Deps, incoming: Incoming, order_id: str, reason: str, quiet: bool = False
) -> Verdict:
    """A malformed order with a readable id: a rejected order, and the reason sent back."""
    details = OrderDetails(
        customer=incoming.customer,
        items=(),
        transport=incoming.transport,
        event_id=incoming.message_id,
        created_at=incoming.created_at,
        dialect=incoming.dialect,
    )
    async with unit_of_work(deps.db) as conn:
        command = RejectOrder(details, reason)
        applied, verdict = await _place(conn, deps, incoming, order_id, command, quiet)
        await record_message(conn, incoming, ORDER, order_id)
        if verdict.verdict != "ignored":
            verdict = replace(verdict, verdict="rejected", reason=reason)
        await settle_verdict(conn, incoming, verdict)
    if applied is not None:
        announce(deps, applied)
    return verdict


def is_order_error(error: MessageError) -> bool:
    """A parse error of something that was meant as an order (so it is owed an answer)."""
    return error.type == ORDER and error.order_id is not None


async def send_refusal(deps: Deps, incoming: Incoming, order_id: str, reason: str) -> None:
    """Tell the customer why an order was refused when no order could be recorded."""
    reply = dialect.refusal(incoming.dialect, order_id, f"Order {order_id} refused: {reason}")
    async with unit_of_work(deps.db) as conn:
        await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                           order_id, [reply], deps.now())  # fmt: skip
        await record_message(conn, incoming, ORDER, order_id)


async def refuse_unreadable(deps: Deps, incoming: Incoming, reason: str) -> Verdict:
    """A structured message we cannot read at all: keep it, and say why in plain text."""
    verdict = Verdict("rejected", reason)
    label = dialect.LABELS.get(incoming.dialect, incoming.dialect)
    text = f"Your message could not be read as a {label} message: {reason}."
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming)
        await record_message(conn, incoming)
        await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                           None, [dialect.note(incoming.dialect, text)], deps.now())  # fmt: skip
        await settle_verdict(conn, incoming, verdict)
    return verdict
