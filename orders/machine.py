"""The pure order state machine: `decide(state, command) -> events`, `apply(state, event)`.

Commands are imperative (`PlaceOrder`, `ShipOrder`, in `order_commands`), events
past tense (`OrderPlaced`, `OrderShipped`, in `order_events`). State is a frozen
value (`order_state`) folded from the order's events. A command that makes no
sense in the current state raises a named `OrderError` (`order_errors`); it never
silently does nothing. This module does no I/O at all: the service layer loads
state, calls `decide`, and stores what comes back.

`TRANSITIONS` is the one definition of the allowed status changes; the
migrations write it into `order_transitions`, where a trigger enforces it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .commands import (
    AdoptInvoice,
    CancelOrder,
    CompleteOrder,
    ExpireInvoice,
    OrderCommand,
    PlaceOrder,
    ReceiveAddressPayment,
    ReceiveEcash,
    ReceivePayment,
    RecordMerchantStatus,
    RecordRefund,
    ReissueInvoice,
    RejectOrder,
    ShipOrder,
)
from .errors import (
    DuplicateOrder,
    IllegalTransition,
    OrderAlreadyPaid,
    OrderAlreadyShipped,
    OrderIdTaken,
    OrderNotFound,
    OrderNotPaid,
    PaymentAlreadyRecorded,
    StockUnavailable,
    UnknownInvoice,
)
from .events import (
    InvoiceExpired,
    InvoiceIssued,
    InvoiceSuperseded,
    OrderCancelled,
    OrderCompleted,
    OrderEvent,
    OrderPaid,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    PaymentReceived,
    RefundNeeded,
    RefundRecorded,
    StockReleased,
    StockReserved,
    StockSold,
)
from .state import Invoice, OrderDetails, OrderState, Quote, Status

NEW = ""  # the "status" of an order that does not exist yet (initial transitions)
S = Status
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (NEW, S.AWAITING_PAYMENT),
        (NEW, S.REJECTED),
        (S.AWAITING_PAYMENT, S.PAID),
        (S.AWAITING_PAYMENT, S.EXPIRED),
        (S.AWAITING_PAYMENT, S.CANCELLED),
        (S.EXPIRED, S.AWAITING_PAYMENT),  # reissue
        (S.EXPIRED, S.PAID),  # late payment, stock still there
        (S.EXPIRED, S.REFUND_NEEDED),  # late payment, stock gone
        (S.EXPIRED, S.CANCELLED),
        (S.CANCELLED, S.REFUND_NEEDED),
        (S.PAID, S.SHIPPED),
        (S.PAID, S.REFUND_NEEDED),  # a superseded invoice paid as well
        (S.REFUND_NEEDED, S.SHIPPED),  # only when one payment was accepted
        (S.REFUND_NEEDED, S.REFUNDED),  # the money went back; the order is closed
        (S.REFUND_NEEDED, S.PAID),  # a paid order's extra payment went back
        (S.REFUNDED, S.REFUND_NEEDED),  # money again, after the refund
        (S.SHIPPED, S.COMPLETED),
    }
)
OPEN_UNPAID = (S.AWAITING_PAYMENT,)


# -- folding events -------------------------------------------------------------------------


def fold(order_id: str, events: list[OrderEvent]) -> OrderState:
    """The state after `events`, from nothing: the same fold rebuilds any projection."""
    state = OrderState(order_id)
    for event in events:
        state = apply(state, event)
    return state


def apply(state: OrderState, event: OrderEvent) -> OrderState:
    """Fold one event into the state; every event adds one to the version."""
    changes = _APPLIERS[type(event)](state, event)
    return replace(state, version=state.version + 1, **changes)


def _refund_status(state: OrderState) -> Status | None:
    """Money for an order that cannot take it: these statuses move to refund_needed."""
    if state.status in (S.EXPIRED, S.CANCELLED, S.PAID, S.REFUNDED):
        return S.REFUND_NEEDED
    return state.status


def _refunded_status(state: OrderState) -> Status | None:
    """Refunded: a paid order goes on as paid, any other is closed as refunded."""
    if state.status is not S.REFUND_NEEDED:
        return state.status
    return S.PAID if state.paid else S.REFUNDED


# What each event changes in the state (one `replace` per event: folding is on the hot path).
_APPLIERS: dict[type[Any], Callable[[OrderState, Any], dict[str, Any]]] = {
    OrderPlaced: lambda s, e: {"status": S.AWAITING_PAYMENT, "details": e.details},
    OrderRejected: lambda s, e: {"status": S.REJECTED, "details": e.details, "reason": e.reason},
    InvoiceIssued: lambda s, e: {
        "status": S.AWAITING_PAYMENT,
        "invoice": e.invoice,
        "quote": e.quote,
        "invoices": s.invoices | {e.invoice.payment_hash},
    },
    InvoiceSuperseded: lambda s, e: {},
    InvoiceExpired: lambda s, e: {"status": S.EXPIRED},
    StockReserved: lambda s, e: {"stock": "held"},
    StockReleased: lambda s, e: {"stock": "released"},
    StockSold: lambda s, e: {"stock": "sold"},
    PaymentReceived: lambda s, e: {"payments": s.payments | {e.payment_hash}},
    OrderPaid: lambda s, e: {"status": S.PAID, "paid": True},
    OrderShipped: lambda s, e: {"status": S.SHIPPED, "shipped": True, "message": e.message},
    OrderCompleted: lambda s, e: {"status": S.COMPLETED},
    OrderCancelled: lambda s, e: {"status": S.CANCELLED, "reason": e.reason or s.reason},
    RefundNeeded: lambda s, e: {
        "status": _refund_status(s),
        "refund_msat": s.refund_msat + e.amount_msat,
        "reason": e.reason,
    },
    RefundRecorded: lambda s, e: {
        "status": _refunded_status(s),
        "refund_msat": s.refund_msat - e.amount_msat,
    },
}


# -- deciding -------------------------------------------------------------------------------


def decide(state: OrderState, command: OrderCommand) -> list[OrderEvent]:
    """The events `command` causes in `state`; raises an `OrderError` when it cannot apply."""
    return _DECIDERS[type(command)](state, command)


# -- guards ----------------------------------------------------------------------------------


def check_new(state: OrderState, details: OrderDetails) -> None:
    """The order id must be unused; the same order sent twice is a `DuplicateOrder`."""
    if state.status is None:
        return
    if state.details is not None and state.details.same_order(details):
        raise DuplicateOrder(f"order {state.order_id} was already received")
    raise OrderIdTaken(f"order id {state.order_id} is already used for a different order")


def check_exists(state: OrderState) -> None:
    if state.status is None:
        raise OrderNotFound(f"order {state.order_id} not found")


def check_unpaid(state: OrderState, action: str) -> None:
    """Only unpaid, open orders (awaiting payment or expired) can be cancelled or reissued."""
    check_exists(state)
    if state.paid:
        raise OrderAlreadyPaid(f"order {state.order_id} is already paid; cannot {action} it")
    if state.status not in (S.AWAITING_PAYMENT, S.EXPIRED):
        raise IllegalTransition(f"order {state.order_id} is {state.status}; cannot {action} it")


def check_payment(state: OrderState, payment_hash: str) -> None:
    """The hash must be one of this order's invoices, and not counted before."""
    check_exists(state)
    if payment_hash not in state.invoices:
        raise UnknownInvoice(f"payment {payment_hash} is not for order {state.order_id}")
    if payment_hash in state.payments:
        raise PaymentAlreadyRecorded(f"payment {payment_hash} was already counted")


def check_shippable(state: OrderState) -> None:
    check_exists(state)
    if state.shipped:
        raise OrderAlreadyShipped(f"order {state.order_id} has already been shipped")
    if not state.paid or state.status not in (S.PAID, S.REFUND_NEEDED):
        raise OrderNotPaid(f"order {state.order_id} is {state.status}; it is not paid")


# -- deciders --------------------------------------------------------------------------------


def _place(state: OrderState, cmd: PlaceOrder) -> list[OrderEvent]:
    check_new(state, cmd.details)
    if cmd.out_of_stock:
        return [OrderRejected(cmd.details, cmd.out_of_stock)]
    issued = InvoiceIssued(cmd.invoice, cmd.quote, cmd.adopted)
    return [OrderPlaced(cmd.details), issued, StockReserved(cmd.details.items)]


def _reject(state: OrderState, cmd: RejectOrder) -> list[OrderEvent]:
    check_new(state, cmd.details)
    return [OrderRejected(cmd.details, cmd.reason)]


def _accept_money(
    state: OrderState, payment_hash: str | None, amount: int, out_of_stock: str | None, by: str
) -> list[OrderEvent]:
    """Money arrived: pay the order if it can still be fulfilled, else a refund is needed."""
    items = state.items
    if state.status is S.AWAITING_PAYMENT:
        return [OrderPaid(payment_hash, by), StockSold(items)]
    if state.status is S.EXPIRED and not out_of_stock:
        return [StockReserved(items), OrderPaid(payment_hash, by), StockSold(items)]
    return [RefundNeeded(payment_hash, amount, _refund_reason(state, out_of_stock))]


def _refund_reason(state: OrderState, out_of_stock: str | None) -> str:
    if state.paid:
        return "the order was already paid"
    if state.status is S.EXPIRED:
        return f"the invoice had expired and the stock is gone ({out_of_stock})"
    if state.status is S.CANCELLED:
        return "the order was cancelled"
    return f"the order cannot take a payment ({state.status})"


def _receive_payment(state: OrderState, cmd: ReceivePayment) -> list[OrderEvent]:
    check_payment(state, cmd.payment_hash)
    received = PaymentReceived(cmd.payment_hash, cmd.amount_msat)
    return [
        received,
        *_accept_money(state, cmd.payment_hash, cmd.amount_msat, cmd.out_of_stock, "wallet"),
    ]


def _receive_address_payment(state: OrderState, cmd: ReceiveAddressPayment) -> list[OrderEvent]:
    """Like a payment of the order's invoice, but through the merchant's lightning address:
    the order keeps its invoice (now superseded by this payment), the money is counted once."""
    check_exists(state)
    if cmd.payment_hash in state.payments:
        raise PaymentAlreadyRecorded(f"payment {cmd.payment_hash} was already counted")
    received = PaymentReceived(cmd.payment_hash, cmd.amount_msat, "lightning_address")
    money = _accept_money(state, cmd.payment_hash, cmd.amount_msat, cmd.out_of_stock, "wallet")
    return [received, *money]


def _receive_ecash(state: OrderState, cmd: ReceiveEcash) -> list[OrderEvent]:
    """Redeemed ecash pays the order like its invoice would; counted once per redemption."""
    check_exists(state)
    if cmd.payment_id in state.payments:
        raise PaymentAlreadyRecorded(f"payment {cmd.payment_id} was already counted")
    received = PaymentReceived(cmd.payment_id, cmd.amount_msat, "cashu")
    money = _accept_money(state, cmd.payment_id, cmd.amount_msat, cmd.out_of_stock, "wallet")
    return [received, *money]


def _expire(state: OrderState, cmd: ExpireInvoice) -> list[OrderEvent]:
    check_unpaid(state, "expire")
    if state.status is not S.AWAITING_PAYMENT:
        raise IllegalTransition(f"order {state.order_id} has already expired")
    if state.invoice is None or state.invoice.payment_hash != cmd.payment_hash:
        raise UnknownInvoice(f"invoice {cmd.payment_hash} is not the order's current invoice")
    return [InvoiceExpired(cmd.payment_hash), StockReleased(state.items)]


def _cancel(state: OrderState, cmd: CancelOrder) -> list[OrderEvent]:
    check_unpaid(state, "cancel")
    cancelled = OrderCancelled(cmd.reason)
    if state.stock == "held":
        return [cancelled, StockReleased(state.items)]
    return [cancelled]


def _record_refund(state: OrderState, cmd: RecordRefund) -> list[OrderEvent]:
    """Only money still owed can be refunded; the amount is what the order owes."""
    check_exists(state)
    if state.refund_msat <= 0:
        raise IllegalTransition(f"order {state.order_id} is {state.status}; nothing to refund")
    return [RefundRecorded(state.refund_msat, cmd.note, cmd.by)]


def _ship(state: OrderState, cmd: ShipOrder) -> list[OrderEvent]:
    check_shippable(state)
    return [OrderShipped(cmd.message, cmd.by, cmd.tracking, cmd.carrier)]


def _complete(state: OrderState, cmd: CompleteOrder) -> list[OrderEvent]:
    check_exists(state)
    if state.status is not S.SHIPPED:
        raise IllegalTransition(f"order {state.order_id} is {state.status}, not shipped")
    return [OrderCompleted(cmd.by)]


def _new_invoice(
    state: OrderState, invoice: Invoice, quote: Quote, adopted: bool, out_of_stock: str | None
) -> list[OrderEvent]:
    """Supersede the current invoice with `invoice`; an expired order reserves stock again."""
    old = state.invoice.payment_hash if state.invoice else ""
    events: list[OrderEvent] = [InvoiceSuperseded(old), InvoiceIssued(invoice, quote, adopted)]
    if state.stock == "held":
        return events
    if out_of_stock:
        raise StockUnavailable(f"cannot reissue order {state.order_id}: {out_of_stock}")
    return [*events, StockReserved(state.items)]


def _reissue(state: OrderState, cmd: ReissueInvoice) -> list[OrderEvent]:
    check_unpaid(state, "reissue")
    return _new_invoice(state, cmd.invoice, cmd.quote, False, cmd.out_of_stock)


def _adopt_invoice(state: OrderState, cmd: AdoptInvoice) -> list[OrderEvent]:
    """Idempotent: an invoice already known, or an order that moved on, changes nothing."""
    check_exists(state)
    if cmd.invoice.payment_hash in state.invoices or state.paid:
        return []
    if state.status not in (S.AWAITING_PAYMENT, S.EXPIRED):
        return []
    return _new_invoice(state, cmd.invoice, cmd.quote, True, cmd.out_of_stock)


def _merchant_status(state: OrderState, cmd: RecordMerchantStatus) -> list[OrderEvent]:
    """Idempotent: what the order already is changes nothing; only news moves it."""
    check_exists(state)
    events: list[OrderEvent] = []
    if cmd.paid and not state.paid:
        events = _merchant_paid(state, cmd.out_of_stock)
    after = fold_onto(state, events)
    if cmd.shipped and not after.shipped:
        check_shippable(after)
        events.append(OrderShipped(cmd.message, "merchant"))
    return events + _merchant_outcome(fold_onto(state, events), cmd.status, cmd.message)


def _merchant_outcome(state: OrderState, status: str | None, message: str) -> list[OrderEvent]:
    """The end the merchant's message reports, if the order has not reached it yet."""
    if status == S.COMPLETED and state.status is S.SHIPPED:
        return [OrderCompleted("merchant")]
    unpaid = not state.paid and state.status in (S.AWAITING_PAYMENT, S.EXPIRED)
    if status == S.CANCELLED and unpaid:
        return _cancel(state, CancelOrder(message))
    if status == S.EXPIRED and state.status is S.AWAITING_PAYMENT and state.invoice:
        return [InvoiceExpired(state.invoice.payment_hash), StockReleased(state.items)]
    return []


def _merchant_paid(state: OrderState, out_of_stock: str | None) -> list[OrderEvent]:
    if state.status not in (S.AWAITING_PAYMENT, S.EXPIRED) or state.invoice is None:
        raise IllegalTransition(f"order {state.order_id} is {state.status}; cannot mark it paid")
    invoice = state.invoice
    events: list[OrderEvent] = []
    if invoice.payment_hash not in state.payments:
        events.append(PaymentReceived(invoice.payment_hash, invoice.amount_msat, "merchant"))
    money = _accept_money(
        state, invoice.payment_hash, invoice.amount_msat, out_of_stock, "merchant"
    )
    return [*events, *money]


def fold_onto(state: OrderState, events: list[OrderEvent]) -> OrderState:
    """`state` with `events` applied, in order."""
    for event in events:
        state = apply(state, event)
    return state


_DECIDERS: dict[type[Any], Callable[[OrderState, Any], list[OrderEvent]]] = {
    PlaceOrder: _place,
    RejectOrder: _reject,
    ReceivePayment: _receive_payment,
    ReceiveAddressPayment: _receive_address_payment,
    ReceiveEcash: _receive_ecash,
    ExpireInvoice: _expire,
    CancelOrder: _cancel,
    ShipOrder: _ship,
    CompleteOrder: _complete,
    ReissueInvoice: _reissue,
    RecordMerchantStatus: _merchant_status,
    AdoptInvoice: _adopt_invoice,
    RecordRefund: _record_refund,
}
