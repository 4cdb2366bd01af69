"""Shipping zones and stalls: validate, write, and announce each change on Nostr.

Each use case is one transaction: the rows change and the signed events that
announce the change enter the outbox together. A committed change is also
announced on the bus, so the merchant's dashboard updates.
"""

from __future__ import annotations

from loguru import logger

from .. import compat
from ..catalogue_models import Product, Stall, StallBody, Zone, ZoneCreate, ZoneUpdate
from ..crud import products as products_crud
from ..crud import stalls as stalls_crud
from ..crud import zones as zones_crud
from ..crud.catalogue import Source, new_id
from ..crud.merchants import MerchantRow
from ..crud.stalls import StallFields
from ..storage.database import Connection
from . import catalogue_events as events
from . import catalogue_publish as publish
from .catalogue_errors import Conflict, InvalidRequest, NotFound
from .host import Host


def currencies(host: Host) -> list[str]:
    """`sat` and every fiat currency with a rate: configured, or live (while fresh)."""
    listed = getattr(getattr(host, "rates", None), "currencies", None)
    if callable(listed):
        return ["sat", *listed()]
    return ["sat", *sorted(host.settings.fiat_rates)]


def check_currency(host: Host, currency: str) -> None:
    """Refuse a currency the order engine could not convert to sats."""
    if currency not in currencies(host):
        known = ", ".join(currencies(host))
        raise InvalidRequest(f"currency {currency!r} has no configured rate; use one of: {known}")


def announce(host: Host, merchant_id: str, what: str, object_id: str, action: str) -> None:
    """Tell the merchant's dashboard about a committed catalogue change."""
    host.bus.publish(merchant_id, "catalogue", {"object": what, "id": object_id, "action": action})


def check_path_id(body_id: str | None, path_id: str) -> None:
    if body_id is not None and body_id != path_id:
        raise InvalidRequest(f"id in the body ({body_id!r}) is not the id in the path")


# ---------------------------------------------------------------- zones


async def list_zones(host: Host, merchant: MerchantRow) -> list[Zone]:
    return await zones_crud.list_zones(host.db, merchant.id)


async def get_zone(src: Source, merchant: MerchantRow, zone_id: str) -> Zone:
    """The merchant's zone, or NotFound (also when it is another merchant's)."""
    zone = await zones_crud.get_zone(src, merchant.id, zone_id)
    if zone is None:
        raise NotFound("zone not found")
    return zone


async def create_zone(host: Host, merchant: MerchantRow, body: ZoneCreate) -> Zone:
    """`POST /zone`: the server chooses the id (a client id could collide with others')."""
    check_currency(host, body.currency)
    zone = Zone(
        id=new_id(),
        name=body.name,
        currency=body.currency,
        cost=body.cost,
        countries=body.countries,
    )
    async with host.db.transaction() as conn:
        await zones_crud.create_zone(conn, merchant.id, zone)
    announce(host, merchant.id, "zone", zone.id, "created")
    return zone


async def update_zone(host: Host, merchant: MerchantRow, zone_id: str, body: ZoneUpdate) -> Zone:
    """`PATCH /zone/{id}`: change what is given; the stalls using it are republished."""
    check_path_id(body.id, zone_id)
    if body.currency is not None:
        check_currency(host, body.currency)
    async with host.db.transaction() as conn:
        zone = await get_zone(conn, merchant, zone_id)
        changes = compat.dump(body, exclude_unset=True, exclude={"id"})
        # Only the name may be cleared with null; other nulls mean "leave as is".
        kept = {k: v for k, v in changes.items() if v is not None or k == "name"}
        updated = compat.copy(zone, kept)
        stall_ids = await zones_crud.get_stall_ids_using_zone(conn, zone_id)
        await _check_zone_currency(conn, merchant, stall_ids, updated.currency)
        await zones_crud.update_zone(conn, merchant.id, updated)
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_stalls(conn, signer, stall_ids)
        if (updated.cost, updated.countries) != (zone.cost, zone.countries):
            await publish.publish_products(
                conn, signer, await _products_of(conn, merchant, stall_ids)
            )
    announce(host, merchant.id, "zone", zone_id, "updated")
    return updated


async def _check_zone_currency(
    conn: Connection, merchant: MerchantRow, stall_ids: list[str], currency: str
) -> None:
    for stall_id in stall_ids:
        stall = await stalls_crud.get_stall(conn, merchant.id, stall_id)
        if stall is not None and stall.currency != currency:
            raise Conflict(f"zone is used by stall {stall.name!r} priced in {stall.currency}")


async def delete_zone(host: Host, merchant: MerchantRow, zone_id: str) -> None:
    """`DELETE /zone/{id}`: refused while it is some stall's only zone."""
    async with host.db.transaction() as conn:
        await get_zone(conn, merchant, zone_id)
        stall_ids = await zones_crud.get_stall_ids_using_zone(conn, zone_id)
        newest = 0
        for stall_id in stall_ids:
            stall = await stalls_crud.get_stall(conn, merchant.id, stall_id)
            if stall is not None and len(stall.shipping_zones) == 1:
                raise Conflict(f"zone is the only shipping zone of stall {stall.name!r}")
            newest = max(newest, stall.event_created_at or 0) if stall else newest
        product_ids = await zones_crud.get_product_ids_shipping_to_zone(conn, zone_id)
        await zones_crud.delete_zone(conn, merchant.id, zone_id)
        signer = publish.signer_for(host.keystore, merchant)
        if stall_ids:  # published with its stalls as a Gamma 30406 shipping option
            target = (events.KIND_SHIPPING_OPTION, zone_id, None)
            await publish.publish_deletion(conn, signer, [target], "zone deleted", newest)
        await publish.publish_stalls(conn, signer, stall_ids)
        product_ids += await _products_of(conn, merchant, stall_ids)
        await publish.publish_products(conn, signer, product_ids)
    announce(host, merchant.id, "zone", zone_id, "deleted")


async def _products_of(conn: Connection, merchant: MerchantRow, stall_ids: list[str]) -> list[str]:
    """The products of these stalls: their 30402 listings carry the stall's zones (and
    Shopstr's `shipping` cost, from its cheapest zone), so a zone change republishes them."""
    found: list[str] = []
    for stall_id in stall_ids:
        products = await products_crud.list_products(conn, merchant.id, stall_id=stall_id)
        found += [product.id for product in products if product.active]
    return found


# ---------------------------------------------------------------- stalls


async def get_stall(src: Source, merchant: MerchantRow, stall_id: str) -> Stall:
    """The merchant's stall, or NotFound (also when it is another merchant's)."""
    stall = await stalls_crud.get_stall(src, merchant.id, stall_id)
    if stall is None:
        raise NotFound("stall not found")
    return stall


async def list_stalls(host: Host, merchant: MerchantRow, pending: bool) -> list[Stall]:
    return await stalls_crud.list_stalls(host.db, merchant.id, pending)


async def list_stall_products(
    host: Host, merchant: MerchantRow, stall_id: str, pending: bool | None
) -> list[Product]:
    await get_stall(host.db, merchant, stall_id)
    return await products_crud.list_products(
        host.db, merchant.id, stall_id=stall_id, pending=pending
    )


async def _checked_zone_ids(conn: Connection, merchant: MerchantRow, body: StallBody) -> list[str]:
    """The body's zone ids, each one the merchant's and in the stall's currency."""
    zone_ids = body.zone_ids()
    zones = await zones_crud.get_zones_by_ids(conn, merchant.id, zone_ids)
    for zone_id in zone_ids:
        zone = zones.get(zone_id)
        if zone is None:
            raise InvalidRequest(f"shipping zone {zone_id!r} does not exist")
        if zone.currency != body.currency:
            raise InvalidRequest(
                f"shipping zone {zone.name or zone_id!r} is in {zone.currency}, "
                f"the stall in {body.currency}"
            )
    return zone_ids


def _fields(body: StallBody) -> StallFields:
    return StallFields(
        name=body.name,
        currency=body.currency,
        description=body.config.description or "",
        image_url=body.config.image_url,
    )


async def create_stall(host: Host, merchant: MerchantRow, body: StallBody) -> Stall:
    """`POST /stall`: store it and publish its 30017."""
    check_currency(host, body.currency)
    stall_id = new_id()
    async with host.db.transaction() as conn:
        zone_ids = await _checked_zone_ids(conn, merchant, body)
        await stalls_crud.insert_stall(conn, merchant.id, stall_id, _fields(body))
        await stalls_crud.set_stall_zones(conn, stall_id, zone_ids)
        await publish.publish_stall(conn, publish.signer_for(host.keystore, merchant), stall_id)
    announce(host, merchant.id, "stall", stall_id, "created")
    return await get_stall(host.db, merchant, stall_id)


async def update_stall(host: Host, merchant: MerchantRow, stall_id: str, body: StallBody) -> Stall:
    """`PUT /stall/{id}`: replace it and republish; `pending: false` accepts an imported one.

    A stall is never made pending again. When its currency or its zones change, its
    products (priced in the stall's currency, listing its zones) are republished too.
    """
    check_path_id(body.id, stall_id)
    check_currency(host, body.currency)
    async with host.db.transaction() as conn:
        stall = await get_stall(conn, merchant, stall_id)
        zone_ids = await _checked_zone_ids(conn, merchant, body)
        pending = stall.pending and body.pending
        await stalls_crud.update_stall(conn, merchant.id, stall_id, _fields(body), pending)
        await stalls_crud.set_stall_zones(conn, stall_id, zone_ids)
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_stall(conn, signer, stall_id)
        old_zones = {zone.id for zone in stall.shipping_zones}
        if stall.currency != body.currency or old_zones != set(zone_ids):
            await publish.publish_products(
                conn, signer, await _products_of(conn, merchant, [stall_id])
            )
    announce(host, merchant.id, "stall", stall_id, "updated")
    return await get_stall(host.db, merchant, stall_id)


async def delete_stall(host: Host, merchant: MerchantRow, stall_id: str) -> None:
    """`DELETE /stall/{id}`: delete it and its products, with a NIP-09 deletion for both.

    A pending (imported, never accepted) stall is only discarded here: we did
    not publish it, so we do not ask relays to delete it.
    """
    async with host.db.transaction() as conn:
        stall = await get_stall(conn, merchant, stall_id)
        products = await products_crud.list_products(conn, merchant.id, stall_id=stall_id)
        await stalls_crud.delete_stall(conn, merchant.id, stall_id)
        targets = [] if stall.pending else deletion_targets([stall], products)
        newest = max([stall.event_created_at or 0, *(p.event_created_at or 0 for p in products)])
        signer = publish.signer_for(host.keystore, merchant)
        await publish.publish_deletion(
            conn, signer, targets, f"stall {stall.name!r} deleted", newest
        )
    logger.info("merchant {} deleted stall {}", merchant.id, stall_id)
    announce(host, merchant.id, "stall", stall_id, "deleted")


def deletion_targets(
    stalls: list[Stall], products: list[Product]
) -> list[tuple[int, str, str | None]]:
    """(kind, d, last event id) of every accepted stall and product to delete on relays."""
    targets: list[tuple[int, str, str | None]] = [
        (events.KIND_STALL, stall.id, stall.event_id) for stall in stalls if not stall.pending
    ]
    for product in products:
        if not product.pending:
            # An inactive product's last event is already a deletion; do not reference it.
            event_id = product.event_id if product.active else None
            targets.append((events.KIND_PRODUCT, product.id, event_id))
    return targets
