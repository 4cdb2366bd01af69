"""Placing a run of new orders inside one transaction (the second half of
`intake_batch`): each order decided on its own, in arrival order, by the same code
`intake._place` runs, against a book of what the orders before it in the run left.

The book starts from one read of the run's products (locked), customers and
conversations (`crud.order_batch.read_run`) and is brought along as each order
reserves stock, opens an order or is answered, so an order here sees what it
would have seen placed alone right after its predecessor. Every write is
buffered; the database's rules (UNIQUE, CHECK, the transition trigger) still
guard them, and any failure fails the whole run, which is then placed order by
order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..crud import stock as stock_crud
from ..crud.order_batch import RunRead, locked_products
from ..market import dialect
from ..market.nip15 import ORDER
from ..orders.commands import OrderCommand, PlaceOrder
from ..orders.errors import StockUnavailable
from ..orders.holds import ProductHolds
from ..orders.state import OrderItem, OrderState
from ..storage.database import Connection
from .conversation import Incoming, Verdict, record_message, settle_verdict
from .deps import Deps
from .intake import apply_parked, flood_checked, settle_adopted, share_rule
from .order_drafts import ParkedReply
from .order_store import Applied, apply_command
from .outgoing import Presealed, send_replies


@dataclass(frozen=True)
class RunOrder:
    """A new order ready to be placed: its message, id and decided command, and the
    merchant's earlier messages about it (the payment request it adopts, the rest)."""

    incoming: Incoming
    order_id: str
    command: OrderCommand
    presealed: Presealed | None = None
    adopted: ParkedReply | None = None
    rest: tuple[ParkedReply, ...] = ()
    silent: bool = False  # the merchant's earlier reply stands for it: nothing is sent


class RunBook:
    """What the run's earlier orders left: free and held units, open orders, stamps."""

    def __init__(self, read: RunRead) -> None:
        self.products: dict[str, ProductHolds] = dict(read.products)
        self.returning = read.returning
        self.open_orders = dict(read.open_orders)
        self.last_stamps = dict(read.last_stamps)

    async def reserve(
        self,
        conn: Connection,
        merchant_id: str,
        order_id: str,
        items: tuple[OrderItem, ...],
        now: int,
    ) -> None:
        """`stock.reserve`, decided on the book: all items or none, product by product in
        id order, with the same refusal; the writes follow only when all fit."""
        taken: list[OrderItem] = []
        for item in sorted(items, key=lambda i: i.product_id):
            product = self.products.get(item.product_id)
            if product is None or product.available < item.quantity:
                for done in taken:
                    self._move(done, -done.quantity)
                left = None if product is None else (product.name, product.available)
                raise StockUnavailable(stock_crud.shortage(item, left))
            self._move(item, item.quantity)
            taken.append(item)
        await stock_crud.take(conn, merchant_id, order_id, items, now)

    async def after_messages(
        self, conn: Connection, merchant_id: str, before: OrderState, after: OrderState
    ) -> None:
        """Bring the book along after the merchant's own messages moved an order on (they
        were recorded with the history, so no reply timestamp changes): a sale takes the
        units out of `held`, a release puts them back to free; anything else is read."""
        if before.stock == after.stock:
            return
        if before.stock != "held" or after.stock not in ("sold", "released"):
            ids = [item.product_id for item in before.items]
            self.products.update(await locked_products(conn, merchant_id, ids))
            return
        for item in before.items:
            self._move(item, -item.quantity)  # back to free ...
            if after.stock == "sold":  # ... and out of stock for good
                product = self.products[item.product_id]
                self.products[item.product_id] = replace(
                    product, available=product.available - item.quantity
                )

    def _move(self, item: OrderItem, units: int) -> None:
        """`units` of the product go from free to held (negative: back)."""
        product = self.products[item.product_id]
        self.products[item.product_id] = replace(
            product, available=product.available - units, held=product.held + units
        )


async def place_in_run(
    conn: Connection, deps: Deps, book: RunBook, order: RunOrder
) -> tuple[Applied, Verdict]:
    """`intake._place` for a new order whose inbox row the run claimed, then the
    merchant's earlier messages about it, the conversation and the verdict, as
    `place_order` writes them."""
    incoming, merchant = order.incoming, order.incoming.merchant
    customer, now = incoming.customer, deps.now()
    command = order.command
    if isinstance(command, PlaceOrder) and not command.adopted:
        command = flood_checked(deps, book.open_orders.get(customer, 0), command)
        command = await _share_checked(conn, deps, book, merchant.id, command)
    applied = await apply_command(
        conn, merchant.id, OrderState(order.order_id), command, incoming.cause, now, book.reserve
    )
    if not order.silent:
        await _answer(conn, deps, book, order, applied)
    final = await _apply_earlier(conn, deps, book, order, applied)
    if final.status == "awaiting_payment":
        book.open_orders[customer] = book.open_orders.get(customer, 0) + 1
    reason = applied.after.reason if applied.after.status == "rejected" else None
    verdict = Verdict("rejected" if reason else "processed", reason, order.order_id)
    await record_message(conn, incoming, ORDER, order.order_id)
    await settle_verdict(conn, incoming, verdict)
    return applied, verdict


async def _answer(
    conn: Connection, deps: Deps, book: RunBook, order: RunOrder, applied: Applied
) -> None:
    incoming, customer = order.incoming, order.incoming.customer
    answers = dialect.replies(applied.after, applied.events)
    sent = await send_replies(conn, incoming.merchant, customer, incoming.transport,
                              order.order_id, answers, deps.now(),
                              book.last_stamps.get(customer, 0), order.presealed)  # fmt: skip
    if sent:
        book.last_stamps[customer] = sent[-1].created_at


async def _apply_earlier(
    conn: Connection, deps: Deps, book: RunBook, order: RunOrder, applied: Applied
) -> OrderState:
    """The adopted payment request is settled, the merchant's later messages applied;
    the order's state after them."""
    if order.adopted is None and not order.rest:
        return applied.after
    await settle_adopted(conn, order.adopted, order.order_id)
    final = await apply_parked(conn, deps, applied, order.rest)
    await book.after_messages(conn, order.incoming.merchant.id, applied.after, final)
    return final


async def _share_checked(
    conn: Connection, deps: Deps, book: RunBook, merchant_id: str, command: OrderCommand
) -> OrderCommand:
    """`intake._share_checked` on the book."""
    if not isinstance(command, PlaceOrder) or deps.settings.new_customer_stock_share >= 100:
        return command
    details = command.details
    if details.customer in book.returning:
        return command
    ids = dict.fromkeys(item.product_id for item in details.items)
    holds = {pid: book.products[pid] for pid in ids if pid in book.products}
    return await share_rule(conn, deps, merchant_id, command, holds)
