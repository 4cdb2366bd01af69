"""API bodies and responses for the catalogue: shipping zones, stalls and products.

Shaped like the LNbits `nostrmarket` extension's models, and validated with the
field types of `models.py` (exact decimal amounts, bounded strings and lists).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

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
    Region,
    ShortText,
    SpecText,
    Text,
    Url,
)

# ---------------------------------------------------------------- zones


class ZoneCreate(Body):
    id: str | None = Field(None, description="ignored: the server chooses ids")
    name: ShortText | None = None
    currency: Currency = "sat"
    cost: Amount = Decimal(0)
    countries: Annotated[list[Region], Field(max_length=300)] = Field(default_factory=list)


class ZoneUpdate(Body):
    id: str | None = Field(None, description="must match the path when given")
    name: ShortText | None = None
    currency: Currency | None = None
    cost: Amount | None = None
    countries: Annotated[list[Region], Field(max_length=300)] | None = None


class Zone(BaseModel):
    id: str
    name: str | None
    currency: str
    cost: Amount
    countries: list[str]


class ZoneReference(BaseModel):
    """A zone given by object in a stall body: only its `id` is used."""

    model_config = ConfigDict(extra="ignore")
    id: ObjectId


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
    shipping_zones: Annotated[list[ObjectId | ZoneReference], Field(min_length=1, max_length=50)]
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


Spec = Annotated[list[SpecText], Field(min_length=2, max_length=2)]
MaxPerOrder = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class ProductConfigIn(Body):
    description: Text | None = None
    currency: Currency | None = Field(None, description="always the stall's currency")
    use_autoreply: StrictBool = False
    autoreply_message: Annotated[str, StringConstraints(max_length=1000)] | None = None
    shipping: Annotated[list[ProductShipping], Field(max_length=50)] = Field(default_factory=list)
    specs: Annotated[list[Spec], Field(max_length=50)] = Field(default_factory=list)
    max_per_order: MaxPerOrder | None = Field(
        None, description="units of this product one order may ask for; null: no limit"
    )


_Images = Annotated[list[Url], Field(max_length=20)]
_Categories = Annotated[list[Category], Field(max_length=20)]


class ProductCreate(Body):
    id: str | None = Field(None, description="ignored: the server chooses ids")
    stall_id: ObjectId
    name: Name
    price: Amount
    quantity: Quantity
    images: _Images = Field(default_factory=list)
    categories: _Categories = Field(default_factory=list)
    active: StrictBool = True
    pending: StrictBool = False
    config: ProductConfigIn = Field(default_factory=ProductConfigIn)
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")


class ProductUpdate(Body):
    """`PATCH /product/{id}`: fields left out keep their value; `pending: false` accepts."""

    id: str | None = Field(None, description="must match the path when given")
    stall_id: ObjectId | None = None
    name: Name | None = None
    price: Amount | None = None
    quantity: Quantity | None = None
    images: _Images | None = None
    categories: _Categories | None = None
    active: StrictBool | None = None
    pending: StrictBool | None = None
    config: ProductConfigIn | None = None
    event_id: str | None = Field(None, description="read-only; ignored")
    event_created_at: int | None = Field(None, description="read-only; ignored")


class ProductConfig(BaseModel):
    description: str | None
    currency: str
    use_autoreply: bool
    autoreply_message: str | None
    shipping: list[ProductShipping]
    specs: list[list[str]]
    max_per_order: int | None = None


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
