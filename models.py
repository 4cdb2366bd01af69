"""API bodies and responses, shaped like the LNbits `nostrmarket` extension's models.

Here: the field types every body is validated with, accounts and the merchant.
The catalogue's (zones, stalls, products) are in `catalogue_models.py`.

Bodies are validated strictly: money is an exact decimal (never a float), counts
are non-negative integers, currencies are `sat` or a three-letter code, image
and profile links are http(s) URLs, and every string and list has a bound.
Read-only fields that LNbits clients send back (`event_id`, `event_created_at`,
`wallet`) are accepted and ignored, so a fetched object can be sent back as is.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field, StrictBool

from . import compat
from .compat import Body
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


# Names that only resolve inside a network (RFC 6761, RFC 6762, RFC 8375, common practice).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain")
# A last label a browser reads as a number makes the host an IPv4 address (WHATWG URL):
# `wss://2130706433/` and `wss://127.1/` are 127.0.0.1.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def public_relay_problem(url: str) -> str | None:
    """Why `url` is not a relay on the public internet (`wss://` to a public host), or None.

    Every visitor of `/market` connects to the merchants' relays with their public key
    in the requests, and the server subscribes to them: a relay on a private address
    would make them reach into networks the merchant has no business in. Names are
    checked as written; what a public name resolves to is not (DNS can change anyway).
    """
    parsed = urlparse(url)
    if parsed.scheme != "wss":
        return "a relay must use wss://"
    host = (parsed.hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _host_name_problem(host)
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if not address.is_global or address.is_multicast:
        return "a relay must be on a public address, not a private, loopback or link-local one"
    return None


def _host_name_problem(host: str) -> str | None:
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return "a relay must have a public host name, not a local one"
    labels = host.split(".")
    if len(labels) < 2 or _NUMERIC_LABEL.match(labels[-1]):
        return "a relay must have a public host name (with a domain) or a public IP address"
    return None


def _currency(value: str) -> str:
    return "sat" if value.lower() == "sat" else value.upper()


def _email_like(value: str) -> str:
    if not _EMAIL_LIKE.match(value):
        raise ValueError("must look like name@domain.tld")
    return value


if TYPE_CHECKING:  # what the fields hold; the checks are in the types built below
    Amount = Decimal
    Quantity = int
    Name = str
    ShortText = str
    Text = str
    ObjectId = str
    Currency = str
    Url = str
    RelayUrl = str
    EmailLike = str
    Region = str
    Category = str
    SpecText = str
    KeyText = str
    RelayList = list[str]
else:
    Amount = compat.decimal(
        ge=0, le=MAX_AMOUNT, max_digits=15, decimal_places=8, to_json=decimal_to_number
    )
    Quantity = compat.integer(ge=0, le=MAX_QUANTITY)
    Name = compat.text(strip=True, min_length=1, max_length=100)
    ShortText = compat.text(max_length=100)
    Text = compat.text(max_length=5000)
    ObjectId = compat.text(min_length=1, max_length=128)
    Currency = compat.text(pattern=r"^[A-Za-z]{3}$", check=_currency)
    Url = compat.text(max_length=2048, pattern=r"^https?://[^\s/?#]+[^\s]*$", check=_http_url)
    RelayUrl = compat.text(max_length=512, pattern=r"^wss?://[^\s/?#]+[^\s]*$", check=_relay_url)
    EmailLike = compat.text(max_length=320, check=_email_like)
    Region = compat.text(strip=True, min_length=1, max_length=100)
    Category = compat.text(strip=True, min_length=1, max_length=64)
    SpecText = compat.text(max_length=500)
    KeyText = compat.text(max_length=200)
    RelayList = compat.items(RelayUrl, max_length=20)


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


def _keys_are_valid_and_match(values: Mapping[str, Any]) -> None:
    """Reject a malformed key, or a public key that is not the private key's.

    The messages never repeat the key: validation errors are sent back and logged.
    """
    derived = None
    private_key, public_key = values.get("private_key"), values.get("public_key")
    if private_key is not None:
        try:
            derived = parse_private_key(private_key).public_key
        except InvalidKey:
            raise ValueError("private_key must be an nsec or 64 hex characters") from None
    if public_key is not None:
        try:
            given = normalize_public_key(public_key)
        except InvalidKey as error:
            raise ValueError(f"public_key: {error}") from None
        if derived is None:
            raise ValueError("public_key needs its private_key: the server signs events")
        if given != derived:
            raise ValueError("public_key does not belong to private_key")


class MerchantCreate(Body):
    """Generate a key pair, or import `private_key` (hex or nsec)."""

    private_key: KeyText | None = Field(
        None, repr=False, description="hex or nsec; generated when left out"
    )
    public_key: KeyText | None = Field(
        None, description="optional check: must match private_key (npub or hex)"
    )
    config: MerchantConfigIn = Field(default_factory=MerchantConfigIn)
    relays: RelayList = Field(default_factory=list)
    default_zone: bool = Field(
        True,
        description="create a shipping zone 'Online' (sat, cost 0, for digital goods), as "
        "nostrmarket does; false: no zone, the merchant creates its own",
    )

    _keys_match = compat.model_check(_keys_are_valid_and_match)


class MerchantUpdate(Body):
    config: MerchantConfigIn | None = None
    relays: RelayList | None = None


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
