"""API bodies and responses for the catalogue: shipping zones, stalls and products.

Shaped like the LNbits `nostrmarket` extension's models, and validated with the
field types of `models.py` (exact decimal amounts, bounded strings and lists). A
zone's countries are ISO 3166-1 alpha-2 codes, names accepted and stored as codes
(`countries.py`); a product's price is more than 0 unless `config.free` says the
merchant gives it away. Amounts come back as JSON numbers, as nostrmarket's do.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, StrictBool

from . import compat
from .countries import region_code
from .models import (
    MAX_QUANTITY,
    Amount,
    Body,
    Category,
    Currency,
    Name,
    ObjectId,
    Publication,
    Quantity,
    ShortText,
    SpecText,
    Text,
    Url,
)

# ---------------------------------------------------------------- zones


def _country(text: str) -> str:
    try:
        return region_code(text)
    except ValueError as error:
        raise compat.custom_error("country", str(error)) from None


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


if TYPE_CHECKING:  # what the fields hold; the checks are in the types built below
    Countries = list[str]
    Specs = list[list[str]]
    MaxPerOrder = int
    AutoreplyText = str
    Images = list[str]
    Categories = list[str]
else:
    Country = compat.text(strip=True, min_length=1, max_length=100, check=_country)
    Countries = compat.items(
        Country,
        max_length=300,
        description="ISO 3166-1 alpha-2 codes (names are turned into codes)",
        check=_distinct,
    )
    Specs = compat.items(compat.items(SpecText, min_length=2, max_length=2), max_length=50)
    MaxPerOrder = compat.integer(ge=1, le=MAX_QUANTITY)
    AutoreplyText = compat.text(max_length=1000)
    Images = compat.items(Url, max_length=20)
    Categories = compat.items(Category, max_length=20)


class ZoneCreate(Body):
    id: str | None = Field(None, description="ignored: the server chooses ids")
    name: ShortText | None = None
    currency: Currency = "sat"
    cost: Amount = Decimal(0)
    countries: Countries = Field(default_factory=list)


class ZoneUpdate(Body):
    id: str | None = Field(None, description="must match the path when given")
    name: ShortText | None = None
    currency: Currency | None = None
    cost: Amount | None = None
    countries: Countries | None = None


class Zone(BaseModel):
    id: str
    name: str | None
    currency: str
    cost: Amount
    countries: list[str]


class ZoneReference(BaseModel):
    """A zone given by object in a stall body: only its `id` is used (others are ignored)."""

    id: ObjectId


if TYPE_CHECKING:
    ZoneIds = list[str | ZoneReference]
else:
    ZoneIds = compat.items(ObjectId | ZoneReference, min_length=1, max_length=50)


# ---------------------------------------------------------------- stalls


class StallConfig(Body):
    image_url: Url | None = None
    description: Text | None = None


class StallBody(Body):
    """`POST /stall` and `PUT /stall/{id}`; `pending: false` accepts an imported stall."""

    id: str | None = Field(None, description="ignored on create; must match the path on update")
    wallet: str | None = Field(None, description="LNbits field; ignored")
    name: Name
    currency: Currency = "sat"
    shipping_zones: ZoneIds
    config: StallConfig = Field(default_factory=StallConfig)
    pending: StrictBool = False
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")

    def zone_ids(self) -> list[str]:
        """The referenced zone ids, in order, without duplicates."""
        ids = [z if isinstance(z, str) else z.id for z in self.shipping_zones]
        return list(dict.fromkeys(ids))


class Stall(BaseModel):
    id: str
    name: str
    currency: str
    shipping_zones: list[Zone]
    config: StallConfig
    pending: bool
    event_id: str | None
    event_created_at: int | None
    publication: Publication


# ---------------------------------------------------------------- products


class ProductShipping(Body):
    """An extra per-unit shipping cost for one of the stall's zones."""

    id: ObjectId
    cost: Amount


if TYPE_CHECKING:
    Shippings = list[ProductShipping]
else:
    Shippings = compat.items(ProductShipping, max_length=50)


class ProductConfigIn(Body):
    description: Text | None = None
    currency: Currency | None = Field(None, description="always the stall's currency")
    use_autoreply: StrictBool = False
    autoreply_message: AutoreplyText | None = None
    shipping: Shippings = Field(default_factory=list)
    specs: Specs = Field(default_factory=list)
    max_per_order: MaxPerOrder | None = Field(
        None, description="units of this product one order may ask for; null: no limit"
    )
    free: StrictBool = Field(
        False, description="given away: the price must then be 0 (and only then may it be)"
    )


def _check_price(price: Decimal | None, config: ProductConfigIn | None) -> None:
    """A price of 0 only for a product marked free, and a free product only at 0."""
    free = config is not None and config.free
    if price is not None and price == 0 and not free:
        raise compat.custom_error(
            "price", "price must be more than 0; to give a product away set config.free to true"
        )
    if free and price != 0:
        raise compat.custom_error("price", "a product with config.free true has price 0")


def _priced_create(values: Mapping[str, Any]) -> None:
    _check_price(values.get("price"), values.get("config"))


def _priced_update(values: Mapping[str, Any]) -> None:
    config = values.get("config")
    if values.get("price") is not None or (config is not None and config.free):
        _check_price(values.get("price"), config)


class ProductCreate(Body):
    id: str | None = Field(None, description="ignored: the server chooses ids")
    stall_id: ObjectId
    name: Name
    price: Amount
    quantity: Quantity
    images: Images = Field(default_factory=list)
    categories: Categories = Field(default_factory=list)
    active: StrictBool = True
    pending: StrictBool = False
    config: ProductConfigIn = Field(default_factory=ProductConfigIn)
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")

    _priced = compat.model_check(_priced_create)


class ProductUpdate(Body):
    """`PATCH /product/{id}`: fields left out keep their value; `pending: false` accepts."""

    id: str | None = Field(None, description="must match the path when given")
    stall_id: ObjectId | None = None
    name: Name | None = None
    price: Amount | None = None
    quantity: Quantity | None = None
    images: Images | None = None
    categories: Categories | None = None
    active: StrictBool | None = None
    pending: StrictBool | None = None
    config: ProductConfigIn | None = None
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")

    _priced = compat.model_check(_priced_update)


class ProductConfig(BaseModel):
    description: str | None
    currency: str
    use_autoreply: bool
    autoreply_message: str | None
    shipping: list[ProductShipping]
    specs: list[list[str]]
    max_per_order: int | None = None
    free: bool = False


class Product(BaseModel):
    id: str
    stall_id: str
    name: str
    price: Amount
    quantity: int
    images: list[str]
    categories: list[str]
    active: bool
    pending: bool
    config: ProductConfig
    event_id: str | None
    event_created_at: int | None
    publication: Publication


class ProductReservation(BaseModel):
    """Stock of a product held by an unpaid order (`GET /product/{id}/reservations`)."""

    order_id: str
    customer: str = Field(description="the customer's npub")
    public_key: str = Field(description="the customer's public key, hex")
    quantity: int
    reserved_at: int
    expires_at: int | None = Field(description="when the invoice, and the hold, expire")
    new_customer: bool = Field(description="no paid order at this merchant yet")
