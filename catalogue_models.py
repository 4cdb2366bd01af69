"""API bodies and responses for the catalogue: shipping zones, stalls and products.

Shaped like the LNbits `nostrmarket` extension's models, and validated with the
field types of `models.py` (exact decimal amounts, bounded strings and lists). A
zone's countries are ISO 3166-1 alpha-2 codes, names accepted and stored as codes
(`countries.py`); a product's price is more than 0 unless `config.free` says the
merchant gives it away. Amounts come back as JSON numbers, as nostrmarket's do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
        raise PydanticCustomError("country", str(error)) from None


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Country = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_country),
]  # fmt: skip
Countries = Annotated[
    list[Country],
    Field(max_length=300, description="ISO 3166-1 alpha-2 codes (names are turned into codes)"),
    AfterValidator(_distinct),
]


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
    free: StrictBool = Field(
        False, description="given away: the price must then be 0 (and only then may it be)"
    )


def _check_price(price: Decimal | None, config: ProductConfigIn | None) -> None:
    """A price of 0 only for a product marked free, and a free product only at 0."""
    free = config is not None and config.free
    if price is not None and price == 0 and not free:
        raise PydanticCustomError(
            "price", "price must be more than 0; to give a product away set config.free to true"
        )
    if free and price != 0:
        raise PydanticCustomError("price", "a product with config.free true has price 0")


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

    @model_validator(mode="after")
    def _priced(self) -> ProductCreate:
        _check_price(self.price, self.config)
        return self


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

    @model_validator(mode="after")
    def _priced(self) -> ProductUpdate:
        if self.price is not None or (self.config is not None and self.config.free):
            _check_price(self.price, self.config)
        return self


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
