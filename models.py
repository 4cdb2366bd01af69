"""API bodies and responses, shaped like the LNbits `nostrmarket` extension's models.

Bodies are validated strictly: money is an exact decimal (never a float), counts
are non-negative integers, currencies are `sat` or a three-letter code, image
and profile links are http(s) URLs, and every string and list has a bound.
Read-only fields that LNbits clients send back (`event_id`, `event_created_at`,
`wallet`) are accepted and ignored, so a fetched object can be sent back as is.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from .nostr.keys import InvalidKey
from .nostr.nip19 import normalize_public_key, parse_private_key

MAX_AMOUNT = 10**12
MAX_QUANTITY = 10**9
_EMAIL_LIKE = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def decimal_to_number(value: Decimal) -> int | float:
    """JSON number for an amount; exact because amounts have at most 15 digits."""
    return int(value) if value == value.to_integral_value() else float(value)


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ValueError(f"must be a {' or '.join(schemes)} URL with a host")
    _ = parsed.port  # raises ValueError on a bad port
    return value


def _http_url(value: str) -> str:
    return _check_url(value, ("http", "https"))


def _relay_url(value: str) -> str:
    return _check_url(value, ("ws", "wss"))


def _currency(value: str) -> str:
    return "sat" if value.lower() == "sat" else value.upper()


def _email_like(value: str) -> str:
    if not _EMAIL_LIKE.match(value):
        raise ValueError("must look like name@domain.tld")
    return value


Amount = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, max_digits=15, decimal_places=8),
    PlainSerializer(decimal_to_number, return_type=float, when_used="json"),
]
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=100)]
Text = Annotated[str, StringConstraints(max_length=5000)]
ObjectId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(_currency)]
Url = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=r"^https?://[^\s/?#]+[^\s]*$"),
    AfterValidator(_http_url),
]
RelayUrl = Annotated[
    str,
    StringConstraints(max_length=512, pattern=r"^wss?://[^\s/?#]+[^\s]*$"),
    AfterValidator(_relay_url),
]
EmailLike = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email_like)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SpecText = Annotated[str, StringConstraints(max_length=500)]


class Body(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorResponse(BaseModel):
    """The one error shape: a message, or the list of validation problems."""

    detail: str | list[dict[str, Any]]


# ---------------------------------------------------------------- accounts


class AccountCreate(Body):
    name: Name


class Account(BaseModel):
    """An account and its two keys: `adminkey` writes, `inkey` (invoice key) reads."""

    id: str
    name: str
    adminkey: str
    inkey: str


# ---------------------------------------------------------------- publication


class Publication(BaseModel):
    """The latest event published for an object and what the relays answered."""

    event_id: str | None = None
    event_created_at: int | None = None
    status: str = Field(
        "unpublished",
        description="unpublished, pending, sent, failed, or external (found on relays)",
    )
    published_at: int | None = None
    relays: dict[str, Any] = Field(default_factory=dict, description="relay URL -> its answer")


# ---------------------------------------------------------------- merchant


class MerchantProfile(Body):
    """The kind 0 metadata published for the merchant."""

    name: ShortText | None = None
    display_name: ShortText | None = None
    about: Text | None = None
    picture: Url | None = None
    banner: Url | None = None
    website: Url | None = None
    nip05: EmailLike | None = None
    lud16: EmailLike | None = None


class MerchantConfigIn(MerchantProfile):
    active: StrictBool | None = None
    event_id: str | None = Field(None, description="read-only; ignored")
    sync_from_nostr: StrictBool | None = Field(None, description="ignored")
    restore_in_progress: StrictBool | None = Field(None, description="ignored")


class MerchantCreate(Body):
    """Generate a key pair, or import `private_key` (hex or nsec)."""

    private_key: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, repr=False, description="hex or nsec; generated when left out"
    )
    public_key: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="optional check: must match private_key (npub or hex)"
    )
    config: MerchantConfigIn = Field(default_factory=MerchantConfigIn)
    relays: Annotated[list[RelayUrl], Field(max_length=20)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _keys_are_valid_and_match(self) -> MerchantCreate:
        """Reject a malformed key, or a public key that is not the private key's.

        The messages never repeat the key: validation errors are sent back and logged.
        """
        derived = None
        if self.private_key is not None:
            try:
                derived = parse_private_key(self.private_key).public_key
            except InvalidKey:
                raise ValueError("private_key must be an nsec or 64 hex characters") from None
        if self.public_key is not None:
            try:
                given = normalize_public_key(self.public_key)
            except InvalidKey as error:
                raise ValueError(f"public_key: {error}") from None
            if derived is None:
                raise ValueError("public_key needs its private_key: the server signs events")
            if given != derived:
                raise ValueError("public_key does not belong to private_key")
        return self


class MerchantUpdate(Body):
    config: MerchantConfigIn | None = None
    relays: Annotated[list[RelayUrl], Field(max_length=20)] | None = None


class MerchantConfig(BaseModel):
    name: str | None = None
    display_name: str | None = None
    about: str | None = None
    picture: str | None = None
    banner: str | None = None
    website: str | None = None
    nip05: str | None = None
    lud16: str | None = None
    active: bool
    event_id: str | None = None


class MerchantPublication(BaseModel):
    profile: Publication
    dm_relays: Publication


class Merchant(BaseModel):
    """A merchant. Its private key never leaves the server (LNbits returns it; we do not)."""

    id: str
    public_key: str
    npub: str
    config: MerchantConfig
    relays: list[str]
    time: int
    publication: MerchantPublication


class NostrSync(BaseModel):
    """What `PUT /merchant/{id}/nostr` did."""

    published: int
    pending_stalls: int
    pending_products: int
    skipped: list[str] = Field(default_factory=list, description="events not imported, and why")


class NostrDeletion(BaseModel):
    deleted_stalls: int
    deleted_products: int
    event_id: str | None


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


class ProductConfigIn(Body):
    description: Text | None = None
    currency: Currency | None = Field(None, description="always the stall's currency")
    use_autoreply: StrictBool = False
    autoreply_message: Annotated[str, StringConstraints(max_length=1000)] | None = None
    shipping: Annotated[list[ProductShipping], Field(max_length=50)] = Field(default_factory=list)
    specs: Annotated[list[Spec], Field(max_length=50)] = Field(default_factory=list)


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
