"""Recovery from the key alone: a lost catalogue brought back from the merchant's own events.

An operator who lost the database imports the merchant's key into a fresh server. The
orders in the relays' DM history name product and shipping-zone ids that now exist only
in the stalls (30017) and products (30018) that key signed. Before a restore places any
order, they come back here, in one transaction: the newest version of each address,
unless the merchant's own deletion (kind 5, `a` tag) covers it, read and bounded like
any import (`catalogue_import`), and inserted *accepted*, not pending (the merchant's key
signed them, as it signed the payment requests the restore adopts), under the ids of
their `d` tags, so the orders price again. NIP-15 has no zone event: zones come from
each stall's `shipping` array (id, name, cost, regions) in the stall's currency.

Not recovered: what the events do not carry (a product's autoreply and maximum per
order, a stall's image), inactive products (their last event is a deletion), and zones
no stall ships to. A product's quantity is the one it was last published with;
`engine/restore/stock.py` says how restored orders are counted against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from ..crud import recovery as recovery_crud
from ..nostr.event import Event
from ..storage.database import Database
from . import catalogue_events as events
from . import catalogue_import as reading
from .catalogue_nostr import import_products, import_stalls


@dataclass(frozen=True)
class RecoveredCatalogue:
    """What came back; `published` maps each product id to its 30018's `created_at`."""

    stalls: int = 0
    products: int = 0
    zones: int = 0
    skipped: list[str] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)


def catalogue_filters(public_key: str) -> list[dict[str, Any]]:
    """The merchant's stalls and products, and its deletions (paged on their own)."""
    return [
        {"kinds": [events.KIND_STALL, events.KIND_PRODUCT], "authors": [public_key]},
        {"kinds": [events.KIND_DELETION], "authors": [public_key]},
    ]


async def recover_catalogue(
    db: Database, merchant_id: str, public_key: str, found: Iterable[Event]
) -> RecoveredCatalogue | None:
    """Insert the catalogue `found` on the relays, accepted; None when the merchant has a
    stall or product already (checked in the same transaction: never merged into one)."""
    mine = [event for event in found if event.pubkey == public_key]  # signed by the merchant
    wanted = reading.newest_by_address(mine, reading.deleted_addresses(mine))
    skipped: list[str] = []
    async with db.transaction() as conn:
        if await recovery_crud.has_catalogue(conn, merchant_id):
            return None
        zones_before = await recovery_crud.zone_count(conn, merchant_id)
        stalls = await import_stalls(conn, merchant_id, wanted, skipped, pending=False)
        products = await import_products(conn, merchant_id, wanted, skipped, pending=False)
        zones = await recovery_crud.zone_count(conn, merchant_id) - zones_before
        published = await recovery_crud.published_at(conn, merchant_id)
    recovered = RecoveredCatalogue(stalls, products, zones, skipped, published)
    logger.info(
        "merchant {}: catalogue recovered from the relays: {} stalls, {} products, {} zones",
        merchant_id, stalls, products, zones,
    )  # fmt: skip
    for reason in skipped:
        logger.warning("merchant {}: not recovered: {}", merchant_id, reason)
    return recovered
