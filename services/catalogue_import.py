"""Read NIP-15 stalls and products found on relays into fields we can store.

Pure: events in, checked values out. Events signed by the merchant's key but
written by other software are untrusted input all the same: ids, lengths,
amounts and URLs are bounded exactly as in the API, and anything that does
not fit is skipped with a reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from .. import compat
from ..catalogue_models import ProductShipping
from ..crud.products import ProductFields
from ..crud.stalls import StallFields
from ..models import Amount, Currency, Url
from ..nostr.event import Event
from . import catalogue_events as events

_SAFE_ID = re.compile(r"^[A-Za-z0-9._~:-]{1,128}$")
_URL = compat.validator_for(Url)
if TYPE_CHECKING:
    _Id = str
    _Name = str
    _Text = str
    _Short = str
    _Regions = list[str]
    _Images = list[str]
    _Specs = list[list[str]]
    _Count = int
    _ProductShippings = list[ProductShipping]
else:
    _Id = compat.text(pattern=_SAFE_ID.pattern)
    _Name = compat.text(strip=True, max_length=100)
    _Text = compat.text(max_length=5000)
    _Short = compat.text(max_length=100)
    _Regions = compat.items(_Short, max_length=300)
    _Images = compat.items(str, max_length=20)
    _Specs = compat.items(list[_Text], max_length=50)
    _Count = compat.integer(strict=False, ge=0, le=10**9)
    _ProductShippings = compat.items(ProductShipping, max_length=50)


class _Shipping(BaseModel):  # unknown fields are ignored: other software writes these
    id: _Id
    name: _Short | None = None
    cost: Amount = Decimal(0)
    regions: _Regions = Field(default_factory=list)


if TYPE_CHECKING:
    _Shippings = list[_Shipping]
else:
    _Shippings = compat.items(_Shipping, max_length=50)


class _StallContent(BaseModel):
    id: _Id | None = None
    name: _Name
    description: _Text | None = None
    currency: Currency = "sat"
    shipping: _Shippings = Field(default_factory=list)


class _ProductContent(BaseModel):
    id: _Id | None = None
    stall_id: _Id
    name: _Name
    description: _Text | None = None
    images: _Images = Field(default_factory=list)
    price: Amount
    quantity: _Count | None = None
    specs: _Specs = Field(default_factory=list)
    shipping: _ProductShippings = Field(default_factory=list)


class Unimportable(ValueError):
    """An event that cannot be imported; the message says why."""


@dataclass(frozen=True)
class ImportedZone:
    id: str
    name: str | None
    cost: Decimal
    regions: list[str]


@dataclass(frozen=True)
class ImportedStall:
    id: str
    fields: StallFields
    zones: list[ImportedZone]
    event: tuple[str, int]


@dataclass(frozen=True)
class ImportedProduct:
    id: str
    fields: ProductFields
    event: tuple[str, int]


def _identifier(event: Event, content_id: str | None) -> str:
    d = event.first_tag("d")
    if d is None or not _SAFE_ID.match(d):
        raise Unimportable("missing or unusable d tag")
    if content_id is not None and content_id != d:
        raise Unimportable("content id differs from the d tag")
    return d


def _content(event: Event) -> Any:
    try:
        return json.loads(event.content)
    except ValueError:
        raise Unimportable("content is not JSON") from None


def _error(error: ValidationError) -> Unimportable:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return Unimportable(f"{where}: {first['msg']}" if where else first["msg"])


def read_stall(event: Event) -> ImportedStall:
    """A 30017 as stall fields and the zones it ships to."""
    try:
        content = compat.validate(_StallContent, _content(event))
    except ValidationError as error:
        raise _error(error) from None
    stall_id = _identifier(event, content.id)
    zones = [ImportedZone(z.id, z.name or None, z.cost, z.regions) for z in content.shipping]
    fields = StallFields(
        name=content.name or "Unnamed stall",
        currency=content.currency,
        description=content.description or "",
    )
    return ImportedStall(stall_id, fields, zones, (event.id, event.created_at))


def _images(urls: list[str]) -> list[str]:
    """The usable http(s) image URLs; others (data: URIs, junk) are dropped."""
    kept = []
    for url in urls:
        try:
            kept.append(_URL(url))
        except ValidationError:
            continue
    return kept


def read_product(event: Event) -> ImportedProduct:
    """A 30018 as product fields; an unlimited quantity (null) is imported as 0."""
    try:
        content = compat.validate(_ProductContent, _content(event))
    except ValidationError as error:
        raise _error(error) from None
    product_id = _identifier(event, content.id)
    categories = [c.strip()[:64] for c in event.tag_values("t") if c.strip()][:20]
    fields = ProductFields(
        stall_id=content.stall_id,
        name=content.name or "Unnamed product",
        price=content.price,
        quantity=content.quantity or 0,
        description=content.description or "",
        images=_images(content.images),
        categories=list(dict.fromkeys(categories)),
        specs=[spec[:2] for spec in content.specs if len(spec) >= 2],
        shipping=content.shipping,
    )
    return ImportedProduct(product_id, fields, (event.id, event.created_at))


def deleted_addresses(deletions: list[Event]) -> dict[str, int]:
    """Address -> newest deletion time, from NIP-09 events with `a` tags."""
    deleted: dict[str, int] = {}
    for event in deletions:
        if event.kind != events.KIND_DELETION:
            continue
        for address in event.tag_values("a"):
            deleted[address] = max(deleted.get(address, 0), event.created_at)
    return deleted


def newest_by_address(found: list[Event], deleted: dict[str, int]) -> list[Event]:
    """The newest version of each stall/product address, unless a deletion covers it."""
    newest: dict[str, Event] = {}
    for event in found:
        if event.kind not in (events.KIND_STALL, events.KIND_PRODUCT):
            continue
        address = events.address(event.kind, event.pubkey, event.first_tag("d") or "")
        if deleted.get(address, -1) >= event.created_at:
            continue
        kept = newest.get(address)
        if kept is None or (event.created_at, kept.id) > (kept.created_at, event.id):
            newest[address] = event
    return list(newest.values())
