"""The whole catalogue on Nostr: republish it, import what only relays know, delete it.

`PUT /merchant/{id}/nostr` republishes the profile, DM relays, stalls and
products, then asks the relays for every 30017/30018 the merchant's key has
signed. Those not in the database come back as *pending* rows for the merchant
to accept or discard. `DELETE /merchant/{id}/nostr` asks relays to delete the
whole catalogue (NIP-09) and keeps it here, ready to be republished.
"""

from __future__ import annotations

import json
from dataclasses import replace

from loguru import logger

from ..catalogue_models import Zone
from ..crud import products as products_crud
from ..crud import stalls as stalls_crud
from ..crud import zones as zones_crud
from ..crud.catalogue import many
from ..crud.merchants import MerchantRow
from ..models import MerchantProfile, NostrDeletion, NostrSync
from ..nostr.event import Event
from ..storage.database import Connection
from . import catalogue_events as events
from . import catalogue_import as reading
from . import catalogue_publish as publish
from .accounts import dm_relays
from .catalogue import announce, deletion_targets
from .host import Host
from .lnurl import lightning_address

FETCH_TIMEOUT_SECONDS = 8.0


async def republish(host: Host, merchant: MerchantRow) -> NostrSync:
    """Republish everything, then import what the relays have and we do not."""
    async with host.db.transaction() as conn:
        published = await _publish_everything(host, conn, merchant)
    found, skipped = await _fetch_catalogue(host, merchant)
    async with host.db.transaction() as conn:
        deleted = reading.deleted_addresses(await _our_deletions(conn, merchant.id))
        deleted.update(reading.deleted_addresses(found))
        wanted = reading.newest_by_address(found, deleted)
        stalls = await import_stalls(conn, merchant.id, wanted, skipped, pending=True)
        products = await import_products(conn, merchant.id, wanted, skipped, pending=True)
    if stalls or products:
        announce(host, merchant.id, "catalogue", merchant.id, "imported")
    return NostrSync(
        published=published, pending_stalls=stalls, pending_products=products, skipped=skipped
    )


async def _publish_everything(host: Host, conn: Connection, merchant: MerchantRow) -> int:
    signer = publish.signer_for(host.keystore, merchant)
    count = 1
    if merchant.profile:
        lud16 = lightning_address(host.settings, merchant.public_key)
        await publish.publish_profile(conn, signer, MerchantProfile(**merchant.profile), lud16)
        count += 1
    await publish.publish_dm_relays(conn, signer, dm_relays(host, merchant))
    stalls = await stalls_crud.list_stalls(conn, merchant.id, pending=False)
    count += await publish.publish_stalls(conn, signer, [s.id for s in stalls])
    products = await products_crud.list_products(conn, merchant.id, pending=False)
    count += await publish.publish_products(conn, signer, [p.id for p in products])
    return count


async def _fetch_catalogue(host: Host, merchant: MerchantRow) -> tuple[list[Event], list[str]]:
    """Every stall, product and deletion the merchant signed, as the relays have them."""
    if host.pool is None:
        return [], ["relays not searched: the relay pool is not running"]
    kinds = [events.KIND_DELETION, events.KIND_STALL, events.KIND_PRODUCT]
    query = [{"kinds": kinds, "authors": [merchant.public_key]}]
    try:
        found: list[Event] = await host.pool.fetch(query, timeout=FETCH_TIMEOUT_SECONDS)
    except Exception as error:  # a relay failure must not undo the republish
        logger.warning("fetching the catalogue of merchant {} failed: {}", merchant.id, error)
        return [], [f"relays not searched: {error}"]
    return [e for e in found if e.pubkey == merchant.public_key], []


async def _our_deletions(conn: Connection, merchant_id: str) -> list[Event]:
    """Deletions we signed, even those still waiting in the outbox."""
    rows = await many(
        conn,
        "SELECT event FROM outbox WHERE merchant_id = ? AND purpose = ?",
        (merchant_id, publish.PURPOSE_DELETION),
    )
    return [Event(**json.loads(row["event"])) for row in rows]


async def import_stalls(
    conn: Connection, merchant_id: str, found: list[Event], skipped: list[str], *, pending: bool
) -> int:
    """Insert the stalls of `found` (30017s) not here yet, with their zones; how many.

    `pending` rows wait for the merchant to accept them (an import); a recovery from the
    key alone inserts them accepted (`catalogue_recover`)."""
    count = 0
    for event in (e for e in found if e.kind == events.KIND_STALL):
        try:
            stall = reading.read_stall(event)
        except reading.Unimportable as error:
            skipped.append(f"stall event {event.id}: {error}")
            continue
        if await stalls_crud.stall_id_exists(conn, stall.id):
            if await stalls_crud.get_stall(conn, merchant_id, stall.id) is None:
                skipped.append(f"stall {stall.id}: the id is another merchant's here")
            continue  # ours already, or another merchant's: never touch it
        await stalls_crud.insert_stall(
            conn, merchant_id, stall.id, stall.fields, pending=pending, event=stall.event
        )
        zone_ids = [await _zone_for(conn, merchant_id, stall, z, skipped) for z in stall.zones]
        await stalls_crud.set_stall_zones(conn, stall.id, [z for z in zone_ids if z])
        count += 1
    return count


async def _zone_for(
    conn: Connection,
    merchant_id: str,
    stall: reading.ImportedStall,
    zone: reading.ImportedZone,
    skipped: list[str],
) -> str | None:
    """The id of the merchant's zone for an imported shipping option, created if new."""
    if await zones_crud.get_zone(conn, merchant_id, zone.id) is not None:
        return zone.id
    if await zones_crud.zone_id_exists(conn, zone.id):
        skipped.append(f"stall {stall.id}: zone id {zone.id!r} is taken; option dropped")
        return None
    await zones_crud.create_zone(
        conn,
        merchant_id,
        Zone(
            id=zone.id,
            name=zone.name,
            currency=stall.fields.currency,
            cost=zone.cost,
            countries=zone.regions,
        ),
    )
    return zone.id


async def import_products(
    conn: Connection, merchant_id: str, found: list[Event], skipped: list[str], *, pending: bool
) -> int:
    """Insert the products of `found` (30018s) not here yet, in stalls already here; how
    many. Extra shipping costs are kept for the stall's zones only."""
    count = 0
    for event in (e for e in found if e.kind == events.KIND_PRODUCT):
        try:
            product = reading.read_product(event)
        except reading.Unimportable as error:
            skipped.append(f"product event {event.id}: {error}")
            continue
        if await products_crud.product_id_exists(conn, product.id):
            if await products_crud.get_product(conn, merchant_id, product.id) is None:
                skipped.append(f"product {product.id}: the id is another merchant's here")
            continue
        stall = await stalls_crud.get_stall(conn, merchant_id, product.fields.stall_id)
        if stall is None:
            skipped.append(f"product {product.id}: its stall is not here")
            continue
        zone_ids = {zone.id for zone in stall.shipping_zones}
        shipping = [item for item in product.fields.shipping if item.id in zone_ids]
        fields = replace(product.fields, shipping=shipping)
        await products_crud.insert_product(
            conn, merchant_id, product.id, fields, pending=pending, event=product.event
        )
        count += 1
    return count


async def delete_from_nostr(host: Host, merchant: MerchantRow) -> NostrDeletion:
    """Ask relays to delete every accepted stall and product; keep them here.

    Each object then records the deletion as its latest event, so a later
    republish is dated after it and is not swept away by it.
    """
    async with host.db.transaction() as conn:
        stalls = await stalls_crud.list_stalls(conn, merchant.id, pending=False)
        products = await products_crud.list_products(conn, merchant.id, pending=False)
        targets = deletion_targets(stalls, products)
        times = [s.event_created_at or 0 for s in stalls] + [
            p.event_created_at or 0 for p in products
        ]
        newest = max(times, default=0)
        signer = publish.signer_for(host.keystore, merchant)
        event = await publish.publish_deletion(conn, signer, targets, "catalogue withdrawn", newest)
        if event is not None:
            for stall in stalls:
                await stalls_crud.set_stall_event(conn, stall.id, event.id, event.created_at)
            for product in products:
                await products_crud.set_product_event(conn, product.id, event.id, event.created_at)
    return NostrDeletion(
        deleted_stalls=len(stalls),
        deleted_products=len(products),
        event_id=event.id if event else None,
    )
