"""The catalogue as Nostr events (NIP-15 stalls and products, kind 0, kind 10050, NIP-09).

Pure: each builder takes the merchant's key, the object and a timestamp, and
returns a signed event. No database, no network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from .. import compat
from ..catalogue_models import Product, Stall
from ..models import MerchantProfile, decimal_to_number
from ..nostr.event import Event, sign_event
from ..nostr.keys import PrivateKey

KIND_PROFILE = 0
KIND_DELETION = 5
KIND_DM_RELAYS = 10050
KIND_STALL = 30017
KIND_PRODUCT = 30018
KIND_LISTING, KIND_COLLECTION, KIND_SHIPPING_OPTION = 30402, 30405, 30406  # the Gamma spec's
# A stall and a product are published in both dialects: deleting one deletes both.
TWINS = {KIND_STALL: KIND_COLLECTION, KIND_PRODUCT: KIND_LISTING}


def next_created_at(previous: int | None, now: int | None = None) -> int:
    """A timestamp strictly after `previous`.

    Relays keep only the newest version of a replaceable event and break ties
    by id, so two versions signed in the same second could lose the newer one.
    """
    stamp = int(time.time()) if now is None else now
    return stamp if previous is None else max(stamp, previous + 1)


def address(kind: int, public_key: str, identifier: str) -> str:
    """The NIP-01 address `<kind>:<pubkey>:<d>` of a parameterised replaceable event."""
    return f"{kind}:{public_key}:{identifier}"


def _json(content: dict[str, Any]) -> str:
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False)


def _number(value: Decimal) -> int | float:
    return decimal_to_number(value)


def stall_event(key: PrivateKey, stall: Stall, created_at: int) -> Event:
    """Kind 30017: the stall with its shipping zones (`regions` are the zone's countries)."""
    content = {
        "id": stall.id,
        "name": stall.name,
        "description": stall.config.description or "",
        "currency": stall.currency,
        "shipping": [
            {
                "id": zone.id,
                "name": zone.name or "",
                "cost": _number(zone.cost),
                "regions": zone.countries,
            }
            for zone in stall.shipping_zones
        ],
    }
    return sign_event(key, KIND_STALL, _json(content), [["d", stall.id]], created_at)


def product_event(key: PrivateKey, product: Product, created_at: int) -> Event:
    """Kind 30018: the product, `t` tags for categories and an `a` tag for its stall."""
    content = {
        "id": product.id,
        "stall_id": product.stall_id,
        "name": product.name,
        "description": product.config.description or "",
        "images": product.images,
        "currency": product.config.currency,
        "price": _number(product.price),
        "quantity": product.quantity,
        "specs": product.config.specs,
        "shipping": [
            {"id": item.id, "cost": _number(item.cost)} for item in product.config.shipping
        ],
    }
    tags = [
        ["d", product.id],
        *(["t", category] for category in product.categories),
        ["a", address(KIND_STALL, key.public_key, product.stall_id)],
    ]
    return sign_event(key, KIND_PRODUCT, _json(content), tags, created_at)


def profile_event(
    key: PrivateKey, profile: MerchantProfile, created_at: int, lud16: str | None = None
) -> Event:
    """Kind 0: the merchant's metadata, only the fields that are set, and the market spec's
    `payment_preference`: `lud16` when the lightning address served here replaces the
    profile's (buyers may pay it, then send a receipt), else `manual` (we ask for payment).
    `shopstr_donation: 0` tells Shopstr to send the merchant the whole price (it keeps 2.1%
    for itself otherwise; a checkout that still carries a donation is counted all the same)."""
    content = compat.dump(profile, exclude_none=True)
    if lud16:
        content["lud16"] = lud16
    content["shopstr_donation"] = 0
    tags = [["payment_preference", "lud16" if lud16 else "manual"]]
    return sign_event(key, KIND_PROFILE, _json(content), tags, created_at)


def dm_relays_event(key: PrivateKey, relays: Sequence[str], created_at: int) -> Event:
    """Kind 10050: where customers should send the merchant NIP-17 direct messages."""
    return sign_event(key, KIND_DM_RELAYS, "", [["relay", url] for url in relays], created_at)


def deletion_event(
    key: PrivateKey,
    targets: Iterable[tuple[int, str, str | None]],
    created_at: int,
    reason: str = "",
) -> Event:
    """Kind 5 (NIP-09) for (kind, d identifier, last event id or None) targets.

    The `a` tag deletes every version up to `created_at`; the `e` tag also
    reaches relays that only understand deletion by event id. A stall's or a
    product's Gamma twin (30405, 30402) is named by an `a` tag too.
    """
    tags: list[list[str]] = []
    kinds: list[int] = []
    for kind, identifier, event_id in targets:
        tags.append(["a", address(kind, key.public_key, identifier)])
        if event_id:
            tags.append(["e", event_id])
        twin = TWINS.get(kind)
        if twin is not None:
            tags.append(["a", address(twin, key.public_key, identifier)])
        kinds.extend(k for k in (kind, twin) if k is not None and k not in kinds)
    tags.extend(["k", str(kind)] for kind in kinds)
    return sign_event(key, KIND_DELETION, reason, tags, created_at)
