"""CSV downloads: `GET /order/export.csv` (the filters of `GET /order`) and
`GET /product/export.csv`. Streamed: the rows are read and written a chunk at a time
(`services/export.py`), never gathered. A key is needed, as for every read.

This router is included before the orders and catalogue routers, so these literal
paths are matched before `/order/{order_id}` and `/product/{product_id}`.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from ..services import export
from .auth import ReadMerchant, RuntimeDep
from .common import READ, DomainErrorRoute, Responses
from .order_filters import OrderFilters, order_filters

router = APIRouter(tags=["export"], route_class=DomainErrorRoute)

CSV = "text/csv; charset=utf-8"
_CSV_DOC: Responses = {
    200: {"content": {"text/csv": {}}, "description": "a header row, then one per row"}
}


def _download(name: str) -> dict[str, str]:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return {
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"',
        "Cache-Control": "no-store",
    }


@router.get("/order/export.csv", response_class=StreamingResponse, responses={**READ, **_CSV_DOC})
async def api_orders_export(
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    filters: Annotated[OrderFilters, Depends(order_filters)],
) -> StreamingResponse:
    """The orders `GET /order` would list with these filters, newest first, as CSV: id,
    created, status, customer npub and name, items, amounts in sats, currency, fiat
    amount, shipping zone, paid at, shipped at, dialect."""
    rows = export.order_csv(runtime.db, merchant.id, filters.query)
    return StreamingResponse(rows, media_type=CSV, headers=_download("orders"))


@router.get("/product/export.csv", response_class=StreamingResponse, responses={**READ, **_CSV_DOC})
async def api_products_export(merchant: ReadMerchant, runtime: RuntimeDep) -> StreamingResponse:
    """Every product of the merchant as CSV: id, stall, name, price, currency, quantity,
    active, pending, categories, event id, created, updated."""
    rows = export.product_csv(runtime.db, merchant.id)
    return StreamingResponse(rows, media_type=CSV, headers=_download("products"))
