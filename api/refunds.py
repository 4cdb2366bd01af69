"""`PUT /order/{id}/refunded`: the merchant records that the money an order could not take
(`refund_needed`) went back to the customer, with a note the customer reads.

The refund itself happens outside nostrbazaar (the merchant's own wallet); this records
it: a `RefundRecorded` event in the order's log and a message to the customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from .. import compat
from ..models import Body
from ..services import order_admin
from .auth import RuntimeDep, WriteMerchant
from .common import WRITE, DomainErrorRoute, error_doc
from .orders import Order, deps_of

router = APIRouter(route_class=DomainErrorRoute)


if TYPE_CHECKING:
    NoteText = str
else:
    NoteText = compat.text(strip=True, max_length=2_000)


class RefundNote(Body):
    note: NoteText = ""


@router.put(
    "/order/{order_id}/refunded",
    tags=["orders"],
    responses={**WRITE, 409: error_doc("Nothing to refund: the order owes no money back")},
)
async def api_order_refunded(
    order_id: str, merchant: WriteMerchant, runtime: RuntimeDep, body: RefundNote | None = None
) -> Order:
    """Mark the money an order owes back as refunded (e.g. "sent to your lightning address"):
    an unpaid order becomes `refunded`, a paid one with an extra payment `paid` again."""
    note = body.note if body is not None else ""
    row = await order_admin.record_refund(deps_of(runtime), merchant.id, order_id, note)
    return Order.of(row)
