"""Routes for the catalogue: shipping zones, stalls and products (LNbits nostrmarket paths)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

from ..catalogue_models import (
    Product,
    ProductCreate,
    ProductReservation,
    ProductUpdate,
    Stall,
    StallBody,
    Zone,
    ZoneCreate,
    ZoneUpdate,
)
from ..countries import choices
from ..services import catalogue, catalogue_products, reservations
from .auth import ReadMerchant, RuntimeDep, WriteMerchant
from .common import READ, WRITE, DomainErrorRoute

router = APIRouter(route_class=DomainErrorRoute)
NO_CONTENT = status.HTTP_204_NO_CONTENT


# ---------------------------------------------------------------- zones


class Country(BaseModel):
    """A region a zone may list: `code` is what the zone stores, `name` what people read."""

    code: str
    name: str


@router.get("/countries", tags=["zones"])
async def api_countries() -> list[Country]:
    """Every region a zone may list (ISO 3166-1 alpha-2 codes, plus EU, Worldwide and
    Free (digital)), with English names; a zone also takes the names, stored as codes."""
    return [Country(**choice) for choice in choices()]


@router.get("/zone", tags=["zones"], responses=READ)
async def api_zones_list(merchant: ReadMerchant, runtime: RuntimeDep) -> list[Zone]:
    """The merchant's shipping zones."""
    return await catalogue.list_zones(runtime, merchant)


@router.post("/zone", tags=["zones"], responses=WRITE)
async def api_zone_create(body: ZoneCreate, merchant: WriteMerchant, runtime: RuntimeDep) -> Zone:
    """Create a zone: a currency, a base cost, the countries it covers."""
    return await catalogue.create_zone(runtime, merchant, body)


@router.patch("/zone/{zone_id}", tags=["zones"], responses=WRITE)
async def api_zone_update(
    zone_id: str, body: ZoneUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Zone:
    """Change a zone; the stalls shipping to it are republished."""
    return await catalogue.update_zone(runtime, merchant, zone_id, body)


@router.delete(
    "/zone/{zone_id}", tags=["zones"], status_code=NO_CONTENT, responses=WRITE, response_model=None
)
async def api_zone_delete(zone_id: str, merchant: WriteMerchant, runtime: RuntimeDep) -> None:
    """Delete a zone (refused while it is a stall's only zone)."""
    await catalogue.delete_zone(runtime, merchant, zone_id)


# ---------------------------------------------------------------- stalls


@router.post("/stall", tags=["stalls"], responses=WRITE)
async def api_stall_create(body: StallBody, merchant: WriteMerchant, runtime: RuntimeDep) -> Stall:
    """Create a stall and publish it (kind 30017)."""
    return await catalogue.create_stall(runtime, merchant, body)


@router.put("/stall/{stall_id}", tags=["stalls"], responses=WRITE)
async def api_stall_update(
    stall_id: str, body: StallBody, merchant: WriteMerchant, runtime: RuntimeDep
) -> Stall:
    """Replace a stall and republish it; `pending: false` accepts one found on relays."""
    return await catalogue.update_stall(runtime, merchant, stall_id, body)


@router.get("/stall/{stall_id}", tags=["stalls"], responses=READ)
async def api_stall_get(stall_id: str, merchant: ReadMerchant, runtime: RuntimeDep) -> Stall:
    """One stall, with its zones and what was last published for it."""
    return await catalogue.get_stall(runtime.db, merchant, stall_id)


@router.get("/stall", tags=["stalls"], responses=READ)
async def api_stalls_list(
    merchant: ReadMerchant, runtime: RuntimeDep, pending: bool = False
) -> list[Stall]:
    """The merchant's stalls; `pending=true` lists those found on relays, not yet accepted."""
    return await catalogue.list_stalls(runtime, merchant, pending)


@router.delete(
    "/stall/{stall_id}",
    tags=["stalls"],
    status_code=NO_CONTENT,
    responses=WRITE,
    response_model=None,
)
async def api_stall_delete(stall_id: str, merchant: WriteMerchant, runtime: RuntimeDep) -> None:
    """Delete a stall and its products, and ask relays to delete them (NIP-09)."""
    await catalogue.delete_stall(runtime, merchant, stall_id)


@router.get("/stall/product/{stall_id}", tags=["stalls"], responses=READ)
async def api_stall_products(
    stall_id: str, merchant: ReadMerchant, runtime: RuntimeDep, pending: bool = False
) -> list[Product]:
    """The stall's products; `pending=true` lists those found on relays, not yet accepted."""
    return await catalogue.list_stall_products(runtime, merchant, stall_id, pending)


# ---------------------------------------------------------------- products


@router.post("/product", tags=["products"], responses=WRITE)
async def api_product_create(
    body: ProductCreate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Product:
    """Create a product in one of the merchant's stalls and publish it (kind 30018)."""
    return await catalogue_products.create_product(runtime, merchant, body)


@router.patch("/product/{product_id}", tags=["products"], responses=WRITE)
async def api_product_update(
    product_id: str, body: ProductUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Product:
    """Change the fields given and republish; `pending: false` accepts one found on relays."""
    return await catalogue_products.update_product(runtime, merchant, product_id, body)


@router.get("/product/{product_id}", tags=["products"], responses=READ)
async def api_product_get(product_id: str, merchant: ReadMerchant, runtime: RuntimeDep) -> Product:
    """One product, with what was last published for it."""
    return await catalogue_products.get_product(runtime.db, merchant, product_id)


@router.get("/product/{product_id}/reservations", tags=["products"], responses=READ)
async def api_product_reservations(
    product_id: str, merchant: ReadMerchant, runtime: RuntimeDep
) -> list[ProductReservation]:
    """Stock of the product held by unpaid orders: by whom, how much, until when."""
    return await reservations.product_reservations(runtime.db, merchant, product_id)


@router.delete(
    "/product/{product_id}",
    tags=["products"],
    status_code=NO_CONTENT,
    responses=WRITE,
    response_model=None,
)
async def api_product_delete(product_id: str, merchant: WriteMerchant, runtime: RuntimeDep) -> None:
    """Delete a product and ask relays to delete it (NIP-09)."""
    await catalogue_products.delete_product(runtime, merchant, product_id)
