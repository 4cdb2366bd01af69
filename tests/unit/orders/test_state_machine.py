# ruff: noqa: E501 - the outcome table reads best one state per line
"""The pure order state machine, table-driven over every (state, command) pair.

The expected outcome of each pair is written out by hand below, so a change in
`orders.py` that alters any behaviour fails here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from nostrbazaar.orders.commands import (
    AdoptInvoice,
    CancelOrder,
    CompleteOrder,
    ExpireInvoice,
    OrderCommand,
    PlaceOrder,
    ReceiveAddressPayment,
    ReceivePayment,
    RecordMerchantStatus,
    RecordRefund,
    ReissueInvoice,
    RejectOrder,
    ShipOrder,
)
from nostrbazaar.orders.errors import (
    DuplicateOrder,
    IllegalTransition,
    OrderAlreadyPaid,
    OrderAlreadyShipped,
    OrderError,
    OrderIdTaken,
    OrderNotFound,
    OrderNotPaid,
    PaymentAlreadyRecorded,
    StockUnavailable,
    UnknownInvoice,
)
from nostrbazaar.orders.machine import NEW, TRANSITIONS, Status, decide, fold_onto
from nostrbazaar.orders.state import Invoice, OrderDetails, OrderItem, OrderState, Quote
from nostrbazaar.orders.trace import status_path

ITEMS = (OrderItem("p1", 2),)
DETAILS = OrderDetails(customer="c" * 64, items=ITEMS, zone_id="z1", address="1 Road")
OTHER = OrderDetails(customer="c" * 64, items=(OrderItem("p2", 1),), zone_id="z1")
QUOTE = Quote("z1", 2000, 500, 2500)


def invoice(name: str) -> Invoice:
    return Invoice(name, f"lnbcrt-{name}", 2500, 9_999)


def run(state: OrderState, command: OrderCommand) -> OrderState:
    return fold_onto(state, decide(state, command))


def build_states() -> dict[str, OrderState]:
    new = OrderState("order-1")
    awaiting = run(new, PlaceOrder(DETAILS, QUOTE, invoice("h1")))
    paid = run(awaiting, ReceivePayment("h1", 2500))
    shipped = run(paid, ShipOrder("on its way"))
    cancelled = run(awaiting, CancelOrder("changed my mind"))
    reissued = run(awaiting, ReissueInvoice(invoice("h2"), QUOTE))
    paid_twice = run(run(reissued, ReceivePayment("h2", 2500)), ReceivePayment("h1", 2500))
    refund_due = run(cancelled, ReceivePayment("h1", 2500))
    return {
        "new": new,
        "awaiting_payment": awaiting,
        "paid": paid,
        "shipped": shipped,
        "completed": run(shipped, CompleteOrder()),
        "rejected": run(new, RejectOrder(DETAILS, "unknown product")),
        "expired": run(awaiting, ExpireInvoice("h1")),
        "cancelled": cancelled,
        "refund_needed_unpaid": refund_due,
        "refund_needed_paid": paid_twice,
        "refunded": run(refund_due, RecordRefund("sent back to your lightning address")),
        "paid_after_reissue": run(reissued, ReceivePayment("h2", 2500)),
    }


STATES = build_states()


def current(state: OrderState) -> str:
    return state.invoice.payment_hash if state.invoice else "h1"


COMMANDS: dict[str, Callable[[OrderState], OrderCommand]] = {
    "place_same": lambda s: PlaceOrder(DETAILS, QUOTE, invoice("h9")),
    "place_other": lambda s: PlaceOrder(OTHER, QUOTE, invoice("h9")),
    "place_no_stock": lambda s: PlaceOrder(DETAILS, QUOTE, invoice("h9"), out_of_stock="gone"),
    "reject": lambda s: RejectOrder(DETAILS, "bad zone"),
    "pay": lambda s: ReceivePayment(current(s), 2500),
    "pay_no_stock": lambda s: ReceivePayment(current(s), 2500, out_of_stock="gone"),
    "pay_unknown": lambda s: ReceivePayment("not-an-invoice-of-this-order", 2500),
    "expire": lambda s: ExpireInvoice(current(s)),
    "cancel": lambda s: CancelOrder("no longer wanted"),
    "ship": lambda s: ShipOrder("sent"),
    "complete": lambda s: CompleteOrder(),
    "reissue": lambda s: ReissueInvoice(invoice("h9"), QUOTE),
    "reissue_no_stock": lambda s: ReissueInvoice(invoice("h9"), QUOTE, out_of_stock="gone"),
    "merchant_paid": lambda s: RecordMerchantStatus(paid=True, shipped=False),
    "merchant_shipped": lambda s: RecordMerchantStatus(paid=True, shipped=True, message="sent"),
    "merchant_note": lambda s: RecordMerchantStatus(paid=False, shipped=False, message="hi"),
    "adopt": lambda s: AdoptInvoice(invoice("h9"), QUOTE),
    "pay_first_invoice": lambda s: ReceivePayment("h1", 2500),
    "merchant_cancelled": lambda s: RecordMerchantStatus(False, False, status="cancelled"),
    "merchant_expired": lambda s: RecordMerchantStatus(False, False, status="expired"),
    "merchant_completed": lambda s: RecordMerchantStatus(True, True, status="completed"),
    "pay_address": lambda s: ReceiveAddressPayment("paid-to-the-lightning-address", 2500),
    "record_refund": lambda s: RecordRefund("sent back"),
}

A, P, SH, C = "awaiting_payment", "paid", "shipped", "completed"
R, E, X, RN, RF = "rejected", "expired", "cancelled", "refund_needed", "refunded"
NF, DUP, TAKEN = OrderNotFound, DuplicateOrder, OrderIdTaken
ILL, PAID_, NOTPAID = IllegalTransition, OrderAlreadyPaid, OrderNotPaid
TWICE, UNK, SHIPPED_, STOCK = (
    PaymentAlreadyRecorded,
    UnknownInvoice,
    OrderAlreadyShipped,
    StockUnavailable,
)

# Columns, in this order:
# place_same place_other place_no_stock reject pay pay_no_stock pay_unknown expire cancel ship
# complete reissue reissue_no_stock merchant_paid merchant_shipped merchant_note adopt
# pay_first_invoice merchant_cancelled merchant_expired merchant_completed pay_address
# record_refund
EXPECTED: dict[str, list[object]] = {
    "new": [A, A, R, R, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF],
    "awaiting_payment": [DUP, TAKEN, DUP, DUP, P, P, UNK, E, X, NOTPAID, ILL, A, A, P, SH, A, A, P, X, E, C, P, ILL],
    "paid": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, PAID_, PAID_, SH, ILL, PAID_, PAID_, P, SH, P, P, TWICE, P, P, C, RN, ILL],
    "shipped": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, PAID_, PAID_, SHIPPED_, C, PAID_, PAID_, SH, SH, SH, SH, TWICE, SH, SH, C, SH, ILL],
    "completed": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, PAID_, PAID_, SHIPPED_, ILL, PAID_, PAID_, C, C, C, C, TWICE, C, C, C, C, ILL],
    "rejected": [DUP, TAKEN, DUP, DUP, UNK, UNK, UNK, ILL, ILL, NOTPAID, ILL, ILL, ILL, ILL, ILL, R, R, UNK, R, R, ILL, R, ILL],
    "expired": [DUP, TAKEN, DUP, DUP, P, RN, UNK, ILL, X, NOTPAID, ILL, A, STOCK, P, SH, E, A, P, X, E, C, P, ILL],
    "cancelled": [DUP, TAKEN, DUP, DUP, RN, RN, UNK, ILL, ILL, NOTPAID, ILL, ILL, ILL, ILL, ILL, X, X, RN, X, X, ILL, RN, ILL],
    "refund_needed_unpaid": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, ILL, ILL, NOTPAID, ILL, ILL, ILL, ILL, ILL, RN, RN, TWICE, RN, RN, ILL, RN, RF],
    "refund_needed_paid": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, PAID_, PAID_, SH, ILL, PAID_, PAID_, RN, SH, RN, RN, TWICE, RN, RN, C, RN, P],
    "paid_after_reissue": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, PAID_, PAID_, SH, ILL, PAID_, PAID_, P, SH, P, P, RN, P, P, C, RN, ILL],
    "refunded": [DUP, TAKEN, DUP, DUP, TWICE, TWICE, UNK, ILL, ILL, NOTPAID, ILL, ILL, ILL, ILL, ILL, RF, RF, TWICE, RF, RF, ILL, RN, ILL],
}  # fmt: skip

PAIRS = list(itertools.product(EXPECTED, COMMANDS))


def test_the_table_covers_every_state_and_every_command() -> None:
    assert set(EXPECTED) == set(STATES)
    assert all(len(row) == len(COMMANDS) for row in EXPECTED.values())
    reachable = {s.status for s in STATES.values()} - {None}
    assert reachable == set(Status)


@pytest.mark.parametrize(("state_name", "command_name"), PAIRS)
def test_each_command_in_each_state_has_the_written_outcome(
    state_name: str, command_name: str
) -> None:
    state = STATES[state_name]
    command = COMMANDS[command_name](state)
    expected = EXPECTED[state_name][list(COMMANDS).index(command_name)]
    if isinstance(expected, type):
        with pytest.raises(expected):
            decide(state, command)
        return
    events = decide(state, command)
    after = fold_onto(state, events)
    assert after.status == expected
    assert after.version == state.version + len(events)
    steps = [state.status or NEW, *status_path(state, events)]
    for before, target in itertools.pairwise(steps):
        assert (before, target) in TRANSITIONS


def test_every_transition_in_the_table_is_used_by_some_command() -> None:
    used: set[tuple[str, str]] = set()
    for state_name, command_name in PAIRS:
        state = STATES[state_name]
        try:
            events = decide(state, COMMANDS[command_name](state))
        except OrderError:
            continue
        steps = [state.status or NEW, *status_path(state, events)]
        used |= set(itertools.pairwise(steps))
    assert used == set(TRANSITIONS)


def test_a_payment_on_a_superseded_invoice_of_an_unpaid_order_pays_it() -> None:
    reissued = run(STATES["awaiting_payment"], ReissueInvoice(invoice("h2"), QUOTE))
    assert run(reissued, ReceivePayment("h1", 2500)).status == Status.PAID


def test_expiring_an_invoice_that_is_not_current_is_refused() -> None:
    reissued = run(STATES["awaiting_payment"], ReissueInvoice(invoice("h2"), QUOTE))
    with pytest.raises(UnknownInvoice):
        decide(reissued, ExpireInvoice("h1"))


def test_a_paid_order_holds_no_stock_and_a_cancelled_one_released_it() -> None:
    assert STATES["paid"].stock == "sold"
    assert STATES["cancelled"].stock == "released"
    assert STATES["expired"].stock == "released"
    assert STATES["awaiting_payment"].stock == "held"


def test_a_refund_records_the_amount_owed() -> None:
    assert STATES["refund_needed_paid"].refund_msat == 2500
    assert STATES["refund_needed_paid"].paid


def test_merchant_status_messages_are_idempotent() -> None:
    shipped = STATES["shipped"]
    assert decide(shipped, RecordMerchantStatus(paid=True, shipped=True)) == []


def test_a_late_payment_with_stock_reserves_it_again_and_sells_it() -> None:
    events = decide(STATES["expired"], ReceivePayment("h1", 2500))
    kinds = [type(event).__name__ for event in events]
    assert kinds == ["PaymentReceived", "StockReserved", "OrderPaid", "StockSold"]


def test_the_same_order_resent_differs_only_in_transport_metadata() -> None:
    resent = OrderDetails(
        customer=DETAILS.customer, items=ITEMS, zone_id="z1", address="1 Road", event_id="e2"
    )
    assert DETAILS.same_order(resent)
