"""A run of new orders to one merchant placed together: what `intake.place_order`
does for each, with the reads, the invoices and the transaction shared by the run.

Before the transaction, holding nothing: the catalogue read once per shipping
zone, each order checked and priced (`intake.draft_command`: a refusal, a new
order, or one that adopts the merchant's earlier payment request), the new
invoices minted together, NIP-17 replies sealed. Then one transaction claims the
run's inbox rows and places the orders in arrival order
(`order_batch.place_in_run`). If it fails, none of it was written, and
`place_new_orders` answers None: the caller places the orders one at a time,
where each gets its own outcome.

Live, the run's events are new to the inbox (their rows are inserted); in a
restore they were parked there by the history's first pass (their rows are
taken back from `parked`), and the merchant's own replies about each order come
with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from loguru import logger

from ..crud.inbox import InboxEntry
from ..crud.order_batch import last_stamps, read_run, returning_customers
from ..crud.order_catalogue import default_zone, load_catalogue
from ..crud.uow import unit_of_work
from ..market import dialect
from ..market.nip15 import OrderMessage, PaymentRequest
from ..orders.commands import OrderCommand, PlaceOrder
from ..orders.errors import OrderError
from ..orders.holds import invoice_expiry
from ..orders.machine import decide, fold
from ..orders.pricing import Catalogue
from ..orders.state import Invoice, OrderState
from ..storage.errors import StorageUnavailable
from ..wallets.base import InvoiceRequest, NewInvoice, WalletError
from .conversation import Incoming, Verdict, announce
from .deps import Deps, Merchant
from .intake import WalletUnavailable
from .order_batch import RunBook, RunOrder, place_in_run
from .order_drafts import (
    ParkedReply,
    answered_before,
    draft_command,
    needs_invoice,
    order_details,
)
from .order_store import Applied
from .outgoing import NIP17, Presealed, reply_stamps, seal_ahead


@dataclass(frozen=True)
class NewOrder:
    """An order message whose id is new to the merchant, its event's inbox row, and (in
    a restore) the merchant's own earlier messages about it, oldest first."""

    entry: InboxEntry
    incoming: Incoming
    message: OrderMessage
    parked: tuple[ParkedReply, ...] = field(default=())
    quiet: bool = False  # placed without a word to the customer (a restored paid checkout)


async def place_new_orders(
    deps: Deps, merchant: Merchant, orders: Sequence[NewOrder], *, restore: bool = False
) -> list[Verdict] | None:
    """Each order's verdict, in order; None when the run could not be written."""
    orders = [await _with_zone(deps, order) for order in orders]
    prepared = await _prepare(deps, merchant, orders)
    try:
        verdicts, applied = await _write_run(deps, merchant, orders, prepared, restore)
    except StorageUnavailable:
        raise
    except Exception as error:  # nothing of the run was written: one at a time instead
        logger.opt(exception=error).warning(
            "a run of {} orders failed as a whole; placing them one at a time", len(orders)
        )
        return None
    for done in applied:
        announce(deps, done)
    return verdicts


async def _with_zone(deps: Deps, order: NewOrder) -> NewOrder:
    """Shopstr names no shipping option, Conduit may not: the stall's cheapest zone."""
    message = order.message
    if message.shipping_id:
        return order
    zone = await default_zone(deps.db, order.incoming.merchant.id, message.items[0].product_id)
    return replace(order, message=replace(message, shipping_id=zone or "none"))


Minted = OrderCommand | WalletUnavailable


async def _prepare(
    deps: Deps, merchant: Merchant, orders: Sequence[NewOrder]
) -> list[RunOrder | WalletUnavailable]:
    """Price every order, mint the invoices the new ones need, seal NIP-17 replies."""
    catalogues = await _catalogues(deps, merchant.id, [order.message for order in orders])
    customers = [order.incoming.customer for order in orders]
    returning = await returning_customers(deps.db, merchant.id, customers)
    drafts = [
        draft_command(deps, order.incoming, order.message,
                      order_details(order.incoming, order.message), _adopted(order),
                      catalogues[order.message.shipping_id])
        for order in orders
    ]  # fmt: skip
    commands = await _mint(deps, merchant.id, orders, drafts, returning)
    return await _sealed(deps, merchant, orders, commands)


def _adopted(order: NewOrder) -> ParkedReply | None:
    """The merchant's first payment request about the order: it stands for the invoice."""
    return next((p for p in order.parked if isinstance(p.message, PaymentRequest)), None)


async def _catalogues(
    deps: Deps, merchant_id: str, messages: Sequence[OrderMessage]
) -> dict[str, Catalogue]:
    """One read per shipping zone, of every product the run names."""
    by_zone: dict[str, dict[str, None]] = {}
    for message in messages:
        ids = by_zone.setdefault(message.shipping_id, {})
        ids.update(dict.fromkeys(item.product_id for item in message.items))
    return {
        zone: await load_catalogue(deps.db, merchant_id, list(ids), zone)
        for zone, ids in by_zone.items()
    }


async def _mint(
    deps: Deps,
    merchant_id: str,
    orders: Sequence[NewOrder],
    drafts: Sequence[OrderCommand],
    returning: set[str],
) -> list[Minted]:
    """The invoice of every order that needs a new one, asked of the wallet as one batch
    (a customer with no paid order here gets the shorter expiry); a failure stays with
    its order."""
    settings = deps.settings
    wanted = [(o, d) for o, d in zip(orders, drafts, strict=True) if needs_invoice(d)]
    requests = [
        InvoiceRequest(
            draft.quote.total_msat, f"Order {order.message.id}",
            invoice_expiry(settings.invoice_expiry_seconds,
                           settings.new_customer_expiry_seconds,
                           order.incoming.customer in returning),
            {"merchant_id": merchant_id, "order_id": order.message.id},
        )
        for order, draft in wanted
        if isinstance(draft, PlaceOrder)
    ]  # fmt: skip
    minted = iter(await deps.wallet.create_invoices(requests) if requests else [])
    return [_invoiced(draft, next(minted)) if needs_invoice(draft) else draft
            for draft in drafts]  # fmt: skip


def _invoiced(draft: OrderCommand, outcome: NewInvoice | WalletError) -> Minted:
    assert isinstance(draft, PlaceOrder)
    if isinstance(outcome, WalletError):
        return WalletUnavailable(f"wallet could not issue an invoice: {outcome}")
    invoice = Invoice(outcome.payment_hash, outcome.bolt11, outcome.amount_msat,
                      outcome.expires_at)  # fmt: skip
    return replace(draft, invoice=invoice)


async def _sealed(
    deps: Deps,
    merchant: Merchant,
    orders: Sequence[NewOrder],
    commands: Sequence[Minted],
) -> list[RunOrder | WalletUnavailable]:
    """Each order with its command and what it will send: nothing when the merchant's
    earlier reply stands for it, and NIP-17 replies sealed with the stamps they will get
    if nothing else is sent meanwhile (`intake._preseal`, for the run)."""
    wrapped = [o.incoming.customer for o in orders if o.incoming.transport == NIP17]
    stamps = await last_stamps(deps.db, merchant.id, wrapped) if wrapped else {}
    ready: list[RunOrder | WalletUnavailable] = []
    for order, command in zip(orders, commands, strict=True):
        if isinstance(command, WalletUnavailable):
            ready.append(command)
            continue
        adopted = _adopted(order)
        silent = order.quiet or answered_before(command, adopted)
        presealed = None
        if order.incoming.transport == NIP17 and not silent:
            presealed = _preseal(deps, order, command, stamps)
        rest = tuple(p for p in order.parked if p is not adopted)
        ready.append(RunOrder(order.incoming, order.message.id, command, presealed,
                              adopted, rest, silent))  # fmt: skip
    return ready


def _preseal(
    deps: Deps, order: NewOrder, command: OrderCommand, stamps: dict[str, int]
) -> Presealed | None:
    order_id, customer = order.message.id, order.incoming.customer
    try:
        events = decide(OrderState(order_id), command)
    except OrderError:
        return None
    expected = dialect.replies(fold(order_id, events), events)
    times = reply_stamps(deps.now(), stamps.get(customer, 0), len(expected))
    if times:
        stamps[customer] = times[-1]
    return seal_ahead(order.incoming.merchant, customer, NIP17, expected, times)


async def _write_run(
    deps: Deps,
    merchant: Merchant,
    orders: Sequence[NewOrder],
    prepared: Sequence[RunOrder | WalletUnavailable],
    restore: bool,
) -> tuple[list[Verdict], list[Applied]]:
    """One transaction: claim the inbox rows, then place each order on the run's book."""
    entries = [_entry(order, ready) for order, ready in zip(orders, prepared, strict=True)]
    if restore:  # parked rows are taken back; one waiting for the wallet stays parked
        entries = [e for e, r in zip(entries, prepared, strict=True) if isinstance(r, RunOrder)]
    customers = [order.incoming.customer for order in orders]
    product_ids = [item.product_id for order in orders for item in order.message.items]
    verdicts: list[Verdict] = []
    applied: list[Applied] = []
    async with unit_of_work(deps.db) as conn:
        read = await read_run(conn, merchant.id, entries, customers, product_ids, restore)
        book = RunBook(read)
        async with conn.grouped():  # all new orders: each table's rows can go together
            for order, ready in zip(orders, prepared, strict=True):
                if isinstance(ready, WalletUnavailable):
                    verdicts.append(Verdict("parked" if restore else "received", str(ready)))
                elif order.entry.id not in read.claimed:
                    verdicts.append(Verdict("ignored", "duplicate"))
                else:
                    done, verdict = await place_in_run(conn, deps, book, ready)
                    applied.append(done)
                    verdicts.append(verdict)
    for order, ready in zip(orders, prepared, strict=True):
        if isinstance(ready, WalletUnavailable):
            logger.warning("order in {} waits for the wallet: {}", order.entry.id, ready)
    return verdicts, applied


def _entry(order: NewOrder, ready: RunOrder | WalletUnavailable) -> InboxEntry:
    """The inbox row as the run claims it: taken for processing, or left `received`
    with the reason when the wallet could not invoice it (tried again later)."""
    if isinstance(ready, WalletUnavailable):
        return replace(order.entry, verdict="received", reason=str(ready))
    return replace(order.entry, verdict="processed")


__all__ = ["NewOrder", "place_new_orders"]
