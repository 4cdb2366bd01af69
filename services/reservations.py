"""Who holds a product's stock with unpaid orders, for the merchant's dashboard."""

from __future__ import annotations

from ..catalogue_models import ProductReservation
from ..crud.merchants import MerchantRow
from ..crud.reservations import open_reservations
from ..nostr.nip19 import npub_encode
from ..storage.database import Database
from .catalogue_products import get_product


async def product_reservations(
    db: Database, merchant: MerchantRow, product_id: str
) -> list[ProductReservation]:
    """The product's open reservations, soonest expiry first; NotFound for a product
    that is not the merchant's."""
    await get_product(db, merchant, product_id)
    return [
        ProductReservation(
            order_id=held.order_id,
            customer=npub_encode(held.public_key),
            public_key=held.public_key,
            quantity=held.quantity,
            reserved_at=held.reserved_at,
            expires_at=held.expires_at,
            new_customer=held.new_customer,
        )
        for held in await open_reservations(db, merchant.id, product_id)
    ]
