"""Routes for orders, direct messages and customers: thin wrappers over the order engine.

Reads go straight to the engine's crud functions, scoped to the caller's
merchant; every change is one call into the engine's services (`order_admin`,
`chat`). Nothing here decides anything about an order.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, StrictBool

from .. import compat
from ..crud import messages as messages_crud
from ..crud import orders as orders_crud
from ..crud.invoices import payment_method, payment_methods
from ..crud.order_list import OrderFilter, list_orders
from ..crud.order_search import count_orders
from ..crud.orders import OrderRow
from ..engine.runtime import Runtime
from ..models import Body, ShortText
from ..nostr.nip19 import normalize_public_key
from ..orders.errors import OrderNotFound
from ..services import chat, order_admin
from ..services.catalogue import get_stall
from ..services.catalogue_errors import Conflict, InvalidRequest, NotFound
from ..services.deps import Deps
from .auth import ReadMerchant, RuntimeDep, WriteMerchant
from .common import READ, WRITE, DomainErrorRoute, error_doc
from .jobs import Job, runner_of
from .order_filters import OrderFilters, Sort, order_filters, order_page

router = APIRouter(route_class=DomainErrorRoute)
ENGINE = {**WRITE, 422: error_doc("Invalid for this order"), 503: error_doc("Wallet down")}


def _public_key(value: str) -> str:
    return normalize_public_key(value)  # InvalidKey is a ValueError: a 422 with its reason


if TYPE_CHECKING:
    PublicKey = str
    Text = str
    OrderIdText = str
    ShippingIdText = str
    MessageText = str
else:
    PublicKey = compat.text(strip=True, max_length=100, check=_public_key)
    Text = compat.text(max_length=10_000)
    OrderIdText = compat.text(min_length=1, max_length=200)
    ShippingIdText = compat.text(max_length=200)
    MessageText = compat.text(min_length=1, max_length=65_536)


class Order(BaseModel):
    """An order as the engine projects it; amounts are integer millisatoshis."""

    id: str
    status: str
    public_key: str
    stall_id: str | None
    shipping_id: str | None = Field(description="the chosen shipping zone")
    address: str | None
    name: str | None
    contact: dict[str, Any]
    items: list[dict[str, Any]]
    message: str | None
    subtotal_msat: int
    shipping_msat: int
    total_msat: int
    total: float = Field(description="total in sats, as LNbits shows it")
    currency: str
    fiat_amount: str | None
    fiat_rate: str | None
    invoice_id: str | None = Field(description="payment hash of the current invoice")
    bolt11: str | None
    paid: bool
    shipped: bool
    transport: str
    dialect: str = Field(
        description="the message format it came in: nip15, gamma, shopstr or conduit"
    )
    payment_method: str | None = Field(
        None,
        description="how it was paid (one order's view only): lightning invoice, lightning"
        " address, cashu ecash, or the merchant's own message",
    )
    reason: str | None
    merchant_message: str | None
    refund_msat: int
    event_id: str | None
    time: int
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, row: OrderRow) -> Order:
        # A shallow copy: `asdict` deep-copies contact and items, a third of a page's time.
        return cls(
            **vars(row),
            shipping_id=row.zone_id,
            total=row.total_msat / 1000,
            invoice_id=row.payment_hash,
            time=row.created_at,
        )


class OrderEvent(BaseModel):
    version: int
    type: str
    data: dict[str, Any]
    cause: str
    created_at: int


class OrderStatusUpdate(Body):
    """LNbits' body: `shipped: true` ships a paid order with `message` for the customer."""

    id: str | None = Field(None, description="must match the path when given")
    shipped: StrictBool
    message: Text | None = None
    paid: StrictBool | None = Field(None, description="ignored: only a payment makes it paid")
    tracking: ShortText | None = Field(None, description="tracking number (Gamma: `tracking`)")
    carrier: ShortText | None = Field(None, description="carrier's name (Gamma: `carrier`)")


class OrderCancel(Body):
    reason: Text | None = None


class OrderReissue(Body):
    id: OrderIdText
    shipping_id: ShippingIdText | None = None


class Message(BaseModel):
    id: int
    event_id: str
    public_key: str
    incoming: bool
    type: int
    order_id: str | None
    message: str
    transport: str
    read: bool
    time: int


class MessageCreate(Body):
    message: MessageText
    public_key: PublicKey
    type: int | None = Field(None, description="LNbits field; ignored (plain text)")
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")


class Customer(BaseModel):
    merchant_id: str
    public_key: str
    profile: dict[str, str | None]
    name: str | None = Field(
        description="what to call them: their profile's name, else the name in their orders"
    )
    unread_messages: int
    last_message_at: int | None


class CustomerCreate(Body):
    public_key: PublicKey
    merchant_id: str | None = Field(None, description="must be the caller's merchant if given")


def _message(row: messages_crud.MessageRow) -> Message:
    data = asdict(row)
    direction = data.pop("direction")
    return Message(**data, incoming=direction == "in", time=row.created_at)


def _customer(merchant_id: str, row: messages_crud.CustomerRow) -> Customer:
    return Customer(
        merchant_id=merchant_id,
        public_key=row.public_key,
        profile={"name": row.name, "about": row.about, "picture": row.picture},
        name=row.name or row.order_name,
        unread_messages=row.unread,
        last_message_at=row.last_message_at,
    )


def deps_of(runtime: Runtime) -> Deps:
    """The order engine's dependencies: the runtime's own, or built from it."""
    deps = getattr(runtime, "deps", None)
    return deps if isinstance(deps, Deps) else Deps.from_runtime(runtime)


async def _order(runtime: Runtime, merchant_id: str, order_id: str) -> OrderRow:
    row = await orders_crud.get_order(runtime.db, merchant_id, order_id)
    if row is None:
        raise OrderNotFound("order not found")
    return row


# ---------------------------------------------------------------- orders


@router.get("/order", tags=["orders"], responses=READ)
async def api_orders_list(
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    response: Response,
    filters: Annotated[OrderFilters, Depends(order_filters)],
    sort: Annotated[Sort, Query(description="the column to sort by")] = "created_at",
    desc: Annotated[bool, Query(description="descending (the default)")] = True,
    total: Annotated[bool, Query(description="count the matches into X-Total-Count")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[Order]:
    """The merchant's orders, newest first (ties by id, so pages are stable), filtered,
    searched (`q`), within dates (`since`, `until`), sorted and paginated; with
    `total=true` the number of matches is in the `X-Total-Count` header."""
    rows = await order_page(
        runtime.db, merchant.id, filters, sort=sort, descending=desc, limit=limit, offset=offset
    )
    if total:
        count = await count_orders(runtime.db, merchant.id, filters.query)
        response.headers["X-Total-Count"] = str(count)
    return await _with_payment_methods(runtime, merchant.id, rows)


@router.get("/stall/order/{stall_id}", tags=["stalls"], responses=READ)
async def api_stall_orders(
    stall_id: str,
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    paid: bool | None = None,
    shipped: bool | None = None,
    pubkey: Annotated[PublicKey | None, Query(description="npub or hex")] = None,
) -> list[Order]:
    """The orders of one of the merchant's stalls."""
    await get_stall(runtime.db, merchant, stall_id)
    wanted = OrderFilter(stall_id=stall_id, paid=paid, shipped=shipped, public_key=pubkey)
    rows = await list_orders(runtime.db, merchant.id, wanted, limit=500)
    return await _with_payment_methods(runtime, merchant.id, rows)


async def _with_payment_methods(runtime: Runtime, merchant_id: str, rows: list[Any]) -> list[Order]:
    """The orders of a list, each with how it was paid (one query for the page)."""
    orders = [Order.of(row) for row in rows]
    methods = await payment_methods(runtime.db, merchant_id, [order.id for order in orders])
    for order in orders:
        order.payment_method = methods.get(order.id)
    return orders


@router.get("/order/{order_id}", tags=["orders"], responses=READ)
async def api_order_get(order_id: str, merchant: ReadMerchant, runtime: RuntimeDep) -> Order:
    """One order, with how it was paid."""
    order = Order.of(await _order(runtime, merchant.id, order_id))
    order.payment_method = await payment_method(runtime.db, merchant.id, order_id)
    return order


@router.get("/order/{order_id}/events", tags=["orders"], responses=READ)
async def api_order_events(
    order_id: str, merchant: ReadMerchant, runtime: RuntimeDep
) -> list[OrderEvent]:
    """The order's event log, oldest first: what happened, when, and why."""
    await _order(runtime, merchant.id, order_id)
    logged = await orders_crud.get_order_events(runtime.db, merchant.id, order_id)
    return [OrderEvent(**asdict(event)) for event in logged]


@router.patch("/order/{order_id}", tags=["orders"], responses=ENGINE)
async def api_order_update(
    order_id: str, body: OrderStatusUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Order:
    """Ship a paid order (`shipped: true`), sending `message` to the customer (and, to a
    Gamma client, `tracking` and `carrier` in their own fields)."""
    if body.id is not None and body.id != order_id:
        raise InvalidRequest("id in the body is not the id in the path")
    if not body.shipped:
        raise Conflict("a shipped order cannot be un-shipped; nothing else can be set here")
    row = await order_admin.ship_order(
        deps_of(runtime), merchant.id, order_id, body.message or "", body.tracking, body.carrier
    )
    return Order.of(row)


class RecoveredCatalogue(BaseModel):
    """The catalogue a restore brought back from the merchant's own events on the relays."""

    stalls: int
    products: int
    zones: int
    skipped: list[str] = Field(description="events not recovered, and why")


class RestoreResult(BaseModel):
    """What a restore from the relays' direct-message history did."""

    events_scanned: int
    events_new: int
    orders_restored: int
    orders_updated: int
    errors: int
    reasons: list[str]
    catalogue: RecoveredCatalogue | None = Field(
        None, description="set when the merchant had no catalogue here and it was recovered"
    )


RESTORE = {**ENGINE, 409: error_doc("A restore job of this merchant is already queued or running")}


# Registered before /order/{order_id}/cancel, which would otherwise take /order/restore/cancel.
@router.put("/order/restore/{event_id}", tags=["orders"], responses=RESTORE, status_code=202)
async def api_order_restore(
    event_id: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="a Nostr event id")],
    merchant: WriteMerchant,
    runtime: RuntimeDep,
) -> Job:
    """Rebuild one order from one event (the order, or our reply about it) and its chat, as
    a job: the queued job at once (`GET /jobs/{id}`; its `result` is a `RestoreResult`)."""
    try:
        row = await runner_of(runtime).restore(merchant.id, event_id)
    except LookupError as error:  # the engine's "no such event here or on the relays"
        raise NotFound(str(error)) from None
    return Job.of(row)


@router.put("/orders/restore", tags=["orders"], responses=RESTORE, status_code=202)
async def api_orders_restore(merchant: WriteMerchant, runtime: RuntimeDep) -> Job:
    """Rebuild every order from the relays' direct-message history and the local inbox, as a
    job: the queued job at once; 409 naming the job if one is already queued or running."""
    return Job.of(await runner_of(runtime).restore(merchant.id))


@router.put("/order/{order_id}/cancel", tags=["orders"], responses=ENGINE)
async def api_order_cancel(
    order_id: str,
    merchant: WriteMerchant,
    runtime: RuntimeDep,
    body: OrderCancel | None = None,
) -> Order:
    """Cancel an unpaid order: its stock is released and the customer told."""
    reason = body.reason if body and body.reason else ""
    row = await order_admin.cancel_order(deps_of(runtime), merchant.id, order_id, reason)
    return Order.of(row)


@router.put("/order/reissue", tags=["orders"], responses=ENGINE)
async def api_order_reissue(
    body: OrderReissue, merchant: WriteMerchant, runtime: RuntimeDep
) -> Order:
    """A new invoice for an unpaid or expired order (optionally another shipping zone)."""
    deps = deps_of(runtime)
    row = await order_admin.reissue_invoice(deps, merchant.id, body.id, body.shipping_id)
    return Order.of(row)


# ---------------------------------------------------------------- messages and customers


@router.get("/message/{public_key}", tags=["messages"], responses=READ)
async def api_messages(
    public_key: Annotated[PublicKey, Path(description="npub or hex")],
    merchant: ReadMerchant,
    runtime: RuntimeDep,
) -> list[Message]:
    """The conversation with a customer (npub or hex), oldest first. Reading changes nothing:
    `PUT /message/{public_key}/read` (admin key) marks it read."""
    rows = await messages_crud.list_messages(runtime.db, merchant.id, public_key)
    return [_message(row) for row in rows]


@router.put(
    "/message/{public_key}/read",
    tags=["messages"],
    responses=WRITE,
    status_code=204,
    response_model=None,
)
async def api_messages_read(
    public_key: Annotated[PublicKey, Path(description="npub or hex")],
    merchant: WriteMerchant,
    runtime: RuntimeDep,
) -> None:
    """The merchant has read the conversation with this customer: its unread count drops to 0."""
    await chat.read_conversation(deps_of(runtime), merchant.id, public_key)


@router.post("/message", tags=["messages"], responses=ENGINE)
async def api_message_send(
    body: MessageCreate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Message:
    """Send a direct message to a customer, on the transport they last used."""
    row = await chat.send_message(deps_of(runtime), merchant.id, body.public_key, body.message)
    return _message(row)


@router.get("/customer", tags=["customers"], responses=READ)
async def api_customers(merchant: ReadMerchant, runtime: RuntimeDep) -> list[Customer]:
    """The merchant's customers, most recently active first, with unread counts."""
    rows = await messages_crud.list_customers(runtime.db, merchant.id)
    return [_customer(merchant.id, row) for row in rows]


@router.post("/customer", tags=["customers"], responses=WRITE)
async def api_customer_create(
    body: CustomerCreate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Customer:
    """Add a customer by public key (npub or hex), to write to them first."""
    if body.merchant_id is not None and body.merchant_id != merchant.id:
        raise InvalidRequest("merchant_id is not this account's merchant")
    known = await messages_crud.list_customers(runtime.db, merchant.id)
    if any(row.public_key == body.public_key for row in known):
        raise Conflict("this customer is already known")
    deps = deps_of(runtime)
    async with runtime.db.transaction() as conn:
        await chat.record_customer(conn, merchant.id, body.public_key, deps.now())
    rows = await messages_crud.list_customers(runtime.db, merchant.id)
    return _customer(merchant.id, next(r for r in rows if r.public_key == body.public_key))
