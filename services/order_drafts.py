"""What an order becomes before any I/O: priced against the catalogue, refused with a
reason, or standing on the merchant's earlier payment request (adopted). Both ways of
placing orders use it: one at a time (`intake`) and in runs (`intake_batch`); only
whether and when an invoice is then minted differs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from loguru import logger

from ..market.gamma import check_amount
from ..market.nip15 import OrderMessage, PaymentRequest, StatusUpdate
from ..orders.commands import OrderCommand, PlaceOrder, RejectOrder
from ..orders.pricing import Catalogue, OrderInvalid, check_order, price_order
from ..orders.state import Invoice, OrderDetails, Quote
from .conversation import Incoming
from .deps import Deps
from .merchant_messages import invoice_from_bolt11

ADDRESS_FOLLOWS = "(the address follows in a later message)"
# An inactive merchant (PUT /merchant/{id}/toggle) refuses new orders at once, never
# queues them: the customer reads this, in the order's dialect.
NOT_TAKING_ORDERS = "this shop is not taking orders right now"


@dataclass(frozen=True)
class ParkedReply:
    """A message from the merchant's own key about this order that arrived before it."""

    inbox_id: str
    incoming: Incoming
    message: PaymentRequest | StatusUpdate


def order_details(incoming: Incoming, msg: OrderMessage) -> OrderDetails:
    return OrderDetails(
        customer=incoming.customer,
        items=msg.items,
        transport=incoming.transport,
        zone_id=msg.shipping_id,
        address=msg.address,
        name=msg.name,
        message=msg.message,
        contact=msg.contact,
        event_id=incoming.message_id,
        created_at=incoming.created_at,
        dialect=incoming.dialect,
    )


UNMINTED = Invoice("", "", 0, 0)  # a priced order's invoice until the wallet mints it


def needs_invoice(command: OrderCommand) -> bool:
    return isinstance(command, PlaceOrder) and command.invoice is UNMINTED


def draft_command(
    deps: Deps,
    incoming: Incoming,
    msg: OrderMessage,
    details: OrderDetails,
    adopted: ParkedReply | None,
    catalogue: Catalogue,
) -> OrderCommand:
    """The order priced, a refusal, or the merchant's earlier invoice adopted; an order
    that needs a new invoice carries `UNMINTED` (no I/O here: a batch mints together)."""
    if not incoming.merchant.active and adopted is None:
        return RejectOrder(details, NOT_TAKING_ORDERS)
    try:
        stall_id, quote = price_checked(deps, msg, catalogue)
    except OrderInvalid as invalid:
        if adopted is None:
            return RejectOrder(details, invalid.reason)
        stall_id, quote = None, None
    if stall_id is not None:
        details = replace(details, stall_id=stall_id)
    if adopted is not None and isinstance(adopted.message, PaymentRequest):
        if adopted.message.lightning is None:  # the merchant refused it back then
            return RejectOrder(details, _refusal_reason(msg.id, adopted.message.message))
        invoice = _adoptable(adopted.message.lightning)
        if invoice is not None:
            quote = quote or Quote(msg.shipping_id, invoice.amount_msat, 0, invoice.amount_msat)
            return PlaceOrder(details, quote, invoice, adopted=True)
        if quote is None:
            return RejectOrder(details, "the order no longer fits the catalogue")
    assert quote is not None
    return PlaceOrder(details, quote, UNMINTED)


def answered_before(command: OrderCommand, adopted: ParkedReply | None) -> bool:
    """The merchant's earlier reply stands for this order: nothing more is sent."""
    if adopted is None or not isinstance(adopted.message, PaymentRequest):
        return False
    if isinstance(command, PlaceOrder):
        return command.adopted
    return adopted.message.lightning is None


def _adoptable(bolt11: str) -> Invoice | None:
    """The merchant's earlier invoice, or None (logged) when it cannot stand for the order."""
    try:
        return invoice_from_bolt11(bolt11)
    except ValueError as error:
        logger.warning("not adopting the merchant's earlier invoice: {}", error)
        return None


def _refusal_reason(order_id: str, message: str | None) -> str:
    """The reason inside the merchant's earlier refusal (as `replies` wrote it)."""
    text = message or "refused by the merchant"
    return text.removeprefix(f"Order {order_id} refused: ")


def price_checked(deps: Deps, msg: OrderMessage, catalogue: Catalogue) -> tuple[str, Quote]:
    address = msg.address or (ADDRESS_FOLLOWS if msg.address_follows else None)
    stall_id = check_order(msg.items, msg.shipping_id, address, catalogue)
    quote = price_order(msg.items, stall_id, catalogue, deps.rates)
    check_amount(msg, quote)
    return stall_id, quote
