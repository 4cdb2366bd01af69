"""Sign catalogue events and put them in the outbox, inside the caller's transaction.

Every function here takes the open connection of the transaction that changed
the catalogue, so the change and the event that announces it commit together
(invariant 9). The outbox publisher sends them and records each relay's answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..crud import merchants as merchants_crud
from ..crud import products as products_crud
from ..crud import stalls as stalls_crud
from ..crud.catalogue import latest_outbox_event
from ..crud.outbox import enqueue_event
from ..models import MerchantProfile
from ..nostr.event import Event
from ..nostr.keys import PrivateKey
from ..storage.database import Connection
from ..storage.keystore import KeyStore
from . import catalogue_events as events

PURPOSE_STALL = "stall"
PURPOSE_PRODUCT = "product"
PURPOSE_PROFILE = "profile"
PURPOSE_DM_RELAYS = "dm_relays"
PURPOSE_DELETION = "deletion"


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
    """Enqueue the stall's 30017; nothing for a pending (not yet accepted) stall."""
    stall = await stalls_crud.get_stall(conn, signer.merchant_id, stall_id)
    if stall is None or stall.pending:
        return None
    created_at = events.next_created_at(stall.event_created_at)
    event = events.stall_event(signer.key, stall, created_at)
    await stalls_crud.set_stall_event(conn, stall_id, event.id, created_at)
    return await _enqueue(conn, signer, event, PURPOSE_STALL)


async def publish_product(conn: Connection, signer: Signer, product_id: str) -> Event | None:
    """Enqueue the product's 30018, or a deletion while it is inactive; nothing if pending."""
    product = await products_crud.get_product(conn, signer.merchant_id, product_id)
    if product is None or product.pending:
        return None
    created_at = events.next_created_at(product.event_created_at)
    if product.active:
        event = events.product_event(signer.key, product, created_at)
        purpose = PURPOSE_PRODUCT
    else:
        target = (events.KIND_PRODUCT, product.id, None)
        event = events.deletion_event(signer.key, [target], created_at, "product inactive")
        purpose = PURPOSE_DELETION
    await products_crud.set_product_event(conn, product_id, event.id, created_at)
    return await _enqueue(conn, signer, event, purpose)


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


async def publish_profile(conn: Connection, signer: Signer, profile: MerchantProfile) -> Event:
    """Enqueue the merchant's kind 0 metadata."""
    previous = await latest_outbox_event(conn, signer.merchant_id, PURPOSE_PROFILE)
    created_at = events.next_created_at(previous[1] if previous else None)
    event = events.profile_event(signer.key, profile, created_at)
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
