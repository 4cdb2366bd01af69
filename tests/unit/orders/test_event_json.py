"""The order log's JSON without orjson (LNbits does not ship it) is the text orjson writes."""

from __future__ import annotations

import orjson
import pytest
from nostrbazaar.crud.orders import _dumps_json, decode_event, encode_event
from nostrbazaar.orders.events import (
    InvoiceIssued,
    OrderPlaced,
    OrderShipped,
    PaymentReceived,
    RefundNeeded,
    StockReserved,
)
from nostrbazaar.orders.state import Invoice, OrderDetails, OrderItem, Quote, Status

ITEMS = (OrderItem("p-1", 2), OrderItem("p-2", 1))
DETAILS = OrderDetails(
    customer="ab" * 32,
    items=ITEMS,
    transport="nip17",
    zone_id="z",
    address="Straße 1, Zürich ✓",
    name='Ann "A" <b>',
    contact={"email": "ann@example.com", "nostr": "npub1x"},
    created_at=1_700_000_000,
    dialect="gamma",
)
EVENTS = [
    OrderPlaced(DETAILS),
    InvoiceIssued(Invoice("11" * 32, "lnbcrt1...", 21_000, 1_700_003_600), Quote("z", 1, 2, 3)),
    StockReserved(ITEMS),
    PaymentReceived("11" * 32, 21_000),
    OrderShipped("on its way 🚚", tracking="T-1", carrier=None),
    RefundNeeded(None, 5, "expired"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_the_stdlib_json_is_the_text_orjson_writes(event: object) -> None:
    assert _dumps_json(event) == orjson.dumps(event).decode()


def test_enums_lists_and_dicts_come_out_as_orjson_writes_them() -> None:
    value = {"status": Status.PAID, "items": list(ITEMS), "n": [1, 2.5, None, True]}
    assert _dumps_json(value) == orjson.dumps(value).decode()


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_an_event_written_without_orjson_reads_back_equal(event: object) -> None:
    name, _ = encode_event(event)  # type: ignore[arg-type]
    assert decode_event(name, _dumps_json(event)) == event


def test_something_json_cannot_hold_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        _dumps_json(object())
