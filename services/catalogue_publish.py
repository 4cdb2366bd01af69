"""Sign catalogue events and put them in the outbox, inside the caller's transaction.

Every function here takes the open connection of the transaction that changed
the catalogue, so the change and the event that announces it commit together
(invariant 9). The outbox publisher sends them and records each relay's answer.
Each stall and product goes out twice, in NIP-15's kinds and in the Gamma market
spec's (`catalogue_gamma`): the stall's 30017 with its 30405 collection and a 30406
per zone, the product's 30018 with its 30402 listing; a deletion names both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..catalogue_models import Stall
from ..crud import merchants as merchants_crud
from ..crud import products as products_crud
from ..crud import stalls as stalls_crud
from ..crud.catalogue import latest_outbox_event, latest_stamp, outbox_purpose
from ..crud.outbox import enqueue_event
from ..models import MerchantProfile
from ..nostr.event import Event
from ..nostr.keys import PrivateKey
from ..storage.database import Connection
from ..storage.keystore import KeyStore
from . import catalogue_events as events
from . import catalogue_gamma as gamma

PURPOSE_STALL = "stall"
PURPOSE_PRODUCT = "product"
PURPOSE_PROFILE = "profile"
PURPOSE_DM_RELAYS = "dm_relays"
PURPOSE_DELETION = "deletion"
PURPOSE_LISTING = "listing"  # the Gamma spec's 30402 (and 30406: a zone's option)
PURPOSE_COLLECTION = "collection"  # the Gamma spec's 30405


@dataclass(frozen=True)
class Signer:
    """A merchant's key and the relays its catalogue goes to (empty: the defaults)."""

    merchant_id: str
    key: PrivateKey
    relays: tuple[str, ...] = ()


def signer_for(keystore: KeyStore, merchant: merchants_crud.MerchantRow) -> Signer:
    """Open the merchant's sealed key."""
    key = PrivateKey.from_hex(keystore.open(merchant.private_key_sealed))
    return Signer(merchant.id, key, tuple(merchant.relays))


async def _enqueue(conn: Connection, signer: Signer, event: Event, purpose: str) -> Event:
    await enqueue_event(conn, signer.merchant_id, event, purpose, relays=signer.relays)
    return event


async def publish_stall(conn: Connection, signer: Signer, stall_id: str) -> Event | None:
    """Enqueue the stall's 30017 (after its Gamma twins: a 30406 per zone, the 30405);
    nothing for a pending (not yet accepted) stall."""
    stall = await stalls_crud.get_stall(conn, signer.merchant_id, stall_id)
    if stall is None or stall.pending:
        return None
    created_at = events.next_created_at(stall.event_created_at)
    for zone in stall.shipping_zones:
        option = gamma.shipping_option_event(signer.key, zone, created_at)
        await _enqueue(conn, signer, option, PURPOSE_LISTING)
    await _publish_collection(conn, signer, stall)
    event = events.stall_event(signer.key, stall, created_at)
    await stalls_crud.set_stall_event(conn, stall_id, event.id, created_at)
    return await _enqueue(conn, signer, event, PURPOSE_STALL)


async def _publish_collection(conn: Connection, signer: Signer, stall: Stall) -> None:
    """The stall's 30405 (its accepted, active products), dated after the last one: a
    product's arrival may change it in the very second the stall was published."""
    products = await products_crud.list_products(conn, signer.merchant_id, stall_id=stall.id)
    ids = [p.id for p in products if p.active and not p.pending]
    last = await latest_stamp(conn, signer.merchant_id, PURPOSE_COLLECTION, stall.id)
    event = gamma.collection_event(signer.key, stall, ids, events.next_created_at(last))
    await _enqueue(conn, signer, event, PURPOSE_COLLECTION)


async def publish_product(conn: Connection, signer: Signer, product_id: str) -> Event | None:
    """Enqueue the product's 30018 (after its 30402, and its stall's events when the stall's
    collection changes), or a deletion of both while it is inactive; nothing if pending."""
    product = await products_crud.get_product(conn, signer.merchant_id, product_id)
    if product is None or product.pending:
        return None
    created_at = events.next_created_at(product.event_created_at)
    joins_or_leaves = await _membership_changes(conn, product.event_id, product.active)
    if product.active:
        event = events.product_event(signer.key, product, created_at)
        purpose = PURPOSE_PRODUCT
    else:
        target = (events.KIND_PRODUCT, product.id, None)
        event = events.deletion_event(signer.key, [target], created_at, "product inactive")
        purpose = PURPOSE_DELETION
    await products_crud.set_product_event(conn, product_id, event.id, created_at)
    stall = await stalls_crud.get_stall(conn, signer.merchant_id, product.stall_id)
    if stall is not None and not stall.pending and product.active:
        listing = gamma.listing_event(signer.key, product, stall, created_at)
        await _enqueue(conn, signer, listing, PURPOSE_LISTING)
    if stall is not None and not stall.pending and joins_or_leaves:
        await _publish_collection(conn, signer, stall)
    return await _enqueue(conn, signer, event, purpose)


async def _membership_changes(conn: Connection, last_event_id: str | None, active: bool) -> bool:
    """Whether publishing the product now adds it to, or takes it out of, its stall's
    collection: first published, reactivated (its last event a deletion), or deactivated."""
    purpose = None if last_event_id is None else await outbox_purpose(conn, last_event_id)
    was_listed = purpose is not None and purpose != PURPOSE_DELETION
    return was_listed != active


async def enqueue_product_update(
    conn: Connection, key: PrivateKey, merchant_id: str, product_id: str
) -> None:
    """Re-sign the product's 30018 with its current quantity, in the caller's transaction.

    For the order engine: call it after changing stock so customers see it.
    """
    merchant = await merchants_crud.get_merchant(conn, merchant_id)
    relays = tuple(merchant.relays) if merchant else ()
    await publish_product(conn, Signer(merchant_id, key, relays), product_id)


async def publish_products(conn: Connection, signer: Signer, product_ids: Iterable[str]) -> int:
    """Enqueue each product's event; how many were enqueued."""
    published = [await publish_product(conn, signer, pid) for pid in dict.fromkeys(product_ids)]
    return sum(event is not None for event in published)


async def publish_stalls(conn: Connection, signer: Signer, stall_ids: Iterable[str]) -> int:
    """Enqueue each stall's event; how many were enqueued."""
    published = [await publish_stall(conn, signer, sid) for sid in dict.fromkeys(stall_ids)]
    return sum(event is not None for event in published)


async def publish_profile(
    conn: Connection, signer: Signer, profile: MerchantProfile, lud16: str | None = None
) -> Event:
    """Enqueue the merchant's kind 0 metadata; `lud16` is the lightning address served
    here (`services.lnurl`), which buyers may pay directly."""
    previous = await latest_outbox_event(conn, signer.merchant_id, PURPOSE_PROFILE)
    created_at = events.next_created_at(previous[1] if previous else None)
    event = events.profile_event(signer.key, profile, created_at, lud16)
    return await _enqueue(conn, signer, event, PURPOSE_PROFILE)


async def publish_dm_relays(conn: Connection, signer: Signer, relays: Iterable[str]) -> Event:
    """Enqueue the merchant's kind 10050 list of relays for direct messages."""
    previous = await latest_outbox_event(conn, signer.merchant_id, PURPOSE_DM_RELAYS)
    created_at = events.next_created_at(previous[1] if previous else None)
    event = events.dm_relays_event(signer.key, list(relays), created_at)
    return await _enqueue(conn, signer, event, PURPOSE_DM_RELAYS)


async def publish_deletion(
    conn: Connection,
    signer: Signer,
    targets: list[tuple[int, str, str | None]],
    reason: str,
    after: int | None = None,
) -> Event | None:
    """Enqueue one NIP-09 deletion for (kind, d, last event id) targets; None if none.

    `after` is the newest `created_at` among the targets' events: the deletion
    must not be older, or relays would keep that version.
    """
    if not targets:
        return None
    event = events.deletion_event(signer.key, targets, events.next_created_at(after), reason)
    return await _enqueue(conn, signer, event, PURPOSE_DELETION)
