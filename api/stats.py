"""Routes for numbers to look at: sales per day, top products, paid share, time to payment;
and the first-run checklist."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from .. import compat
from ..services import stats
from .auth import ReadMerchant, RuntimeDep
from .common import READ, DomainErrorRoute

router = APIRouter(tags=["stats"], route_class=DomainErrorRoute)


class DayFigures(BaseModel):
    date: str = Field(description="YYYY-MM-DD in the requested time zone")
    placed: int
    paid: int
    expired: int
    refused: int
    revenue_msat: int
    revenue_sat: int


class TopProduct(BaseModel):
    product_id: str
    name: str | None = Field(description="null when the product was deleted")
    quantity: int
    orders: int


class Stats(BaseModel):
    days: int
    since: int = Field(description="start of the first day (Unix seconds)")
    tz_offset_minutes: int
    per_day: list[DayFigures]
    totals: dict[str, int]
    top_products: list[TopProduct]
    paid_share: float | None = Field(
        description="paid / placed, of the orders placed in the window"
    )
    median_seconds_to_payment: float | None


class ChecklistStep(BaseModel):
    key: str
    label: str
    done: bool


class Checklist(BaseModel):
    steps: list[ChecklistStep]
    done: bool


@router.get("/stats", responses=READ)
async def api_stats(
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    tz_offset: Annotated[
        int, Query(ge=-14 * 60, le=14 * 60, description="local time minus UTC, in minutes")
    ] = 0,
) -> Stats:
    """Per day: orders placed, paid, expired and refused, revenue; top products; paid share;
    median time from order to payment."""
    figures: dict[str, Any] = await stats.sales(
        runtime.db, merchant.id, days, tz_offset, int(time.time())
    )
    return compat.validate(Stats, figures)


@router.get("/setup", responses=READ)
async def api_setup(merchant: ReadMerchant, runtime: RuntimeDep) -> Checklist:
    """The first-run checklist: keys, a zone, a stall, a product, published to a relay."""
    return compat.validate(Checklist, await stats.setup_checklist(runtime.db, merchant.id))
