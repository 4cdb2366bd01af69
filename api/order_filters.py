"""The filters of `GET /order`, shared with `GET /order/export.csv` so both read the same set.

The plain filters (`status`, `paid`, `shipped`, `pubkey`) keep the indexed list of
`crud/order_list.py`; a search text, a date range or another sort go through
`crud/order_search.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query

from .. import compat
from ..crud.order_list import OrderFilter, list_orders
from ..crud.order_search import OrderQuery, search_orders
from ..crud.orders import OrderRow
from ..nostr.keys import InvalidKey
from ..nostr.nip19 import normalize_public_key
from ..orders.state import Status
from ..storage.database import Database

MAX_TIME = 2**40


def _public_key(value: str) -> str:
    return normalize_public_key(value)  # InvalidKey is a ValueError: a 422 with its reason


if TYPE_CHECKING:
    PublicKey = str
    Search = str
else:
    PublicKey = compat.text(strip=True, max_length=100, check=_public_key)
    Search = compat.text(strip=True, max_length=200)
Sort = Literal["created_at", "updated_at", "total", "status"]


def _as_key(text: str) -> str | None:
    """The search text as a hex public key when it is an npub or 64 hex digits."""
    try:
        return normalize_public_key(text)
    except (InvalidKey, ValueError):
        return None


@dataclass(frozen=True)
class OrderFilters:
    """What `GET /order` was asked, beyond the page."""

    query: OrderQuery
    plain: bool  # only the indexed filters: the fast list serves it


async def order_filters(
    paid: bool | None = None,
    shipped: bool | None = None,
    status: Status | None = None,
    pubkey: Annotated[PublicKey | None, Query(description="npub or hex")] = None,
    q: Annotated[
        Search | None,
        Query(description="order id, customer (npub, hex or name) or product name; any part"),
    ] = None,
    since: Annotated[
        int | None, Query(ge=0, le=MAX_TIME, description="created at or after (Unix seconds)")
    ] = None,
    until: Annotated[
        int | None, Query(ge=0, le=MAX_TIME, description="created before (Unix seconds)")
    ] = None,
    refused: Annotated[
        bool | None,
        Query(description="true: only refused orders; false: every order but the refused"),
    ] = None,
) -> OrderFilters:
    """The filters as one query (a dependency of the list and of the export)."""
    query = OrderQuery(
        status=None if status is None else str(status), paid=paid, shipped=shipped,
        public_key=pubkey, search=q or None, search_key=_as_key(q) if q else None,
        since=since, until=until, refused=refused,
    )  # fmt: skip
    plain = not q and since is None and until is None and refused is None
    return OrderFilters(query, plain=plain)


async def order_page(
    db: Database,
    merchant_id: str,
    filters: OrderFilters,
    *,
    sort: Sort,
    descending: bool,
    limit: int,
    offset: int,
) -> list[OrderRow]:
    """A page of orders: from the indexed list when only its filters and its order are
    asked, else from the general search."""
    query = filters.query
    if filters.plain and sort == "created_at" and descending:
        wanted = OrderFilter(
            status=query.status, paid=query.paid, shipped=query.shipped,
            public_key=query.public_key,
        )  # fmt: skip
        return await list_orders(db, merchant_id, wanted, limit=limit, offset=offset)
    return await search_orders(
        db, merchant_id, query, sort=sort, descending=descending, limit=limit, offset=offset
    )


__all__ = ["OrderFilters", "PublicKey", "Sort", "order_filters", "order_page"]
