"""Stock when a restore recovered the catalogue from the relays (recovery from the key alone).

A recovered product's quantity is the one its last 30018 was published with: live stock
at that moment, every reservation made before it already taken out (stock is published
again on every sale, expiry and cancellation, not on a reservation). The restore then
places every order again through the normal path, which reserves, sells and releases
stock as live processing did: twice for what the published quantity already reflects.
So each order the merchant had answered with an invoice is placed on lent stock (its
units added just before, so its reservation cannot fail for units the published quantity
already lacks), and right after, the units whose effect the published quantity does not
reflect are taken back. With T the product's 30018 `created_at` and "reserved" the
timestamp of the invoice in the merchant's last payment request (the wallet's clock,
just before the reservation; the messages' own stamps can run seconds ahead, as they
increase strictly per conversation):

- held or sold, reserved at or before T: the loan stays (it pays for the reservation);
- held or sold, reserved after T: taken back (live stock was lower than published);
- released, and the merchant's expired/cancelled message says so: taken back (the
  release was published like the reservation); released by this restore (no such
  message): as held, since live stock got those units back only now;
- not on stock at all (refused, or placed earlier): taken back.

So after the restore each product's stock is live stock, but for two cases: an order
reserved after T in T's own second (or in the second or two T ran ahead of the clock
when the product was published twice in one second) counts as before it (stock too high
by its units); and a release whose 30018 never reached the relays counts as published
(stock too low by its units). Orders the merchant never answered are decided afresh on
the stock as it is, without a loan. Every change is a stock-ledger row naming the order
("restore: lent to order ...", "restore: taken back from order ..."). A restore stopped
between a loan and its taking back leaves the loan in stock: recover again into a fresh
data directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loguru import logger

from ...crud import recovery as recovery_crud
from ...market.nip15 import PaymentRequest, StatusUpdate
from ...orders.state import OrderItem
from ...services.deps import Deps
from ...services.intake import ParkedReply
from ...wallets.invoice_codec import InvoiceDecodeError, decode_invoice

RELEASES = ("expired", "cancelled")


@dataclass(frozen=True)
class Loan:
    """Units lent to one order (recovered products only), when its last invoice was made,
    and whether the merchant said it expired or was cancelled."""

    order_id: str
    units: dict[str, int]
    reserved_at: int
    released: bool = False


def loan_for(
    order_id: str,
    items: Iterable[OrderItem],
    replies: Iterable[ParkedReply],
    published: dict[str, int],
) -> Loan | None:
    """What to lend an order before it is placed; None when the merchant never sent it a
    readable invoice (it is then decided afresh) or it names no recovered product."""
    replies = list(replies)
    made = [stamp for r in replies if (stamp := _invoice_made(r)) is not None]
    units: dict[str, int] = {}
    for item in items:
        if item.product_id in published:
            units[item.product_id] = units.get(item.product_id, 0) + item.quantity
    if not made or not units:
        return None
    return Loan(order_id, units, max(made), any(_release(r) for r in replies))


def _invoice_made(reply: ParkedReply) -> int | None:
    """The timestamp of the invoice in a payment request: when the wallet made it."""
    if not isinstance(reply.message, PaymentRequest) or reply.message.lightning is None:
        return None
    try:
        return decode_invoice(reply.message.lightning, recover_payee=False).timestamp
    except InvoiceDecodeError:
        return None  # not adopted either: the order gets a fresh invoice


def _release(reply: ParkedReply) -> bool:
    return isinstance(reply.message, StatusUpdate) and reply.message.status in RELEASES


def to_take_back(loan: Loan, states: dict[str, str], published: dict[str, int]) -> dict[str, int]:
    """The units of `loan` to take back, given the order's reservation state per product."""
    return {
        product_id: count
        for product_id, count in loan.units.items()
        if not _reflected(states.get(product_id), loan, published[product_id])
    }


def _reflected(state: str | None, loan: Loan, published_at: int) -> bool:
    """Whether the published quantity already reflects what the order did to the stock."""
    if state in ("held", "sold") or (state == "released" and not loan.released):
        return loan.reserved_at <= published_at
    return False


class StockLoans:
    """Lends stock to each restored order and takes back what it must (see the module)."""

    def __init__(self, deps: Deps, merchant_id: str, published: dict[str, int]) -> None:
        self._deps, self._merchant_id, self._published = deps, merchant_id, published

    async def lend(
        self, order_id: str, items: Iterable[OrderItem], replies: Iterable[ParkedReply]
    ) -> Loan | None:
        """Lend an order about to be placed its units; None when it needs none."""
        deps, merchant_id = self._deps, self._merchant_id
        if await recovery_crud.order_exists(deps.db, merchant_id, order_id):
            return None  # placed already: this delivery changes nothing
        loan = loan_for(order_id, items, replies, self._published)
        if loan is not None:
            async with deps.db.transaction() as conn:
                await recovery_crud.lend(conn, merchant_id, order_id, loan.units, deps.now())
        return loan

    async def settle(self, loan: Loan) -> None:
        """After the order was placed: take back what the published stock did not reflect."""
        deps, merchant_id = self._deps, self._merchant_id
        async with deps.db.transaction() as conn:
            states = await recovery_crud.reservation_states(conn, merchant_id, loan.order_id)
            back = to_take_back(loan, states, self._published)
            short = await recovery_crud.take_back(conn, merchant_id, loan.order_id, back,
                                                  deps.now())  # fmt: skip
        if short:
            logger.warning(
                "restore: stock for order {} could not be taken back in full {}: the "
                "history and the published quantities disagree", loan.order_id, short,
            )  # fmt: skip
