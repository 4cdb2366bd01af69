"""Accounts and merchants: keys, profile, relays, and the merchant's own Nostr events."""

from __future__ import annotations

import secrets
from dataclasses import replace
from decimal import Decimal

from loguru import logger

from .. import compat
from ..catalogue_models import Zone
from ..crud import merchants as merchants_crud
from ..crud import zones as zones_crud
from ..crud.accounts import AccountRow, create_account, key_digest
from ..crud.catalogue import get_publications, latest_outbox_event, new_id, publication_of
from ..crud.merchants import MerchantRow
from ..models import (
    Account,
    Merchant,
    MerchantConfig,
    MerchantCreate,
    MerchantProfile,
    MerchantPublication,
    MerchantUpdate,
    public_relay_problem,
)
from ..nostr.keys import PrivateKey
from ..nostr.nip19 import npub_encode, parse_private_key
from ..storage.database import Connection, Database
from ..storage.engines import IntegrityError
from . import catalogue_publish as publish
from .catalogue_errors import Conflict, InvalidRequest, NotFound, SignupDisabled
from .host import Host
from .lnurl import lightning_address

_PROFILE_FIELDS = compat.field_names(MerchantProfile)


async def sign_up(host: Host, name: str) -> Account:
    """`POST /account`: a new account, unless sign-up is turned off."""
    if not host.settings.signup_open:
        raise SignupDisabled("sign-up is disabled here; ask the operator for an account")
    return await new_account(host.db, name)


async def new_account(db: Database, name: str) -> Account:
    """A new account with two long random keys (also used by `nostrbazaar account create`).

    The keys are returned here once: only their digests are stored.
    """
    admin_key, invoice_key = secrets.token_hex(16), secrets.token_hex(16)
    row = AccountRow(new_id(), name, key_digest(admin_key), key_digest(invoice_key))
    async with db.transaction() as conn:
        await create_account(conn, row)
    logger.info("created account {}", row.id)
    return Account(id=row.id, name=row.name, adminkey=admin_key, inkey=invoice_key)


async def merchants_changed(host: Host, merchant_id: str) -> None:
    """Tell the order engine at once: drop its cached merchant and resubscribe."""
    await host.merchant_changed(merchant_id)


def relay_problem(host: Host, url: str) -> str | None:
    """Why a merchant may not use `url` here, or None: the operator's own relays are always
    allowed, others must be public `wss://` ones unless the operator allows private relays."""
    if url in host.relays or url in host.settings.relays or host.settings.private_relays_allowed:
        return None
    return public_relay_problem(url)


def allowed_relays(host: Host, urls: list[str]) -> list[str]:
    """The URLs of `urls` a merchant may use here (older records may hold others)."""
    return [url for url in urls if relay_problem(host, url) is None]


def check_relays(host: Host, urls: list[str]) -> None:
    """Refuse a merchant's relay list naming a relay it may not use, and say which."""
    for url in urls:
        problem = relay_problem(host, url)
        if problem is not None:
            raise InvalidRequest(
                f"relay {url} refused: {problem} (the operator can allow such relays "
                "with NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS=true)"
            )


def dm_relays(host: Host, merchant: MerchantRow) -> list[str]:
    """Where the merchant receives direct messages: its own relays, else the defaults."""
    return list(merchant.relays or host.relays)


async def create_merchant(host: Host, account_id: str, body: MerchantCreate) -> Merchant:
    """Generate or import the key, seal it, and create the merchant, with a shipping zone
    "Online" (0 sat, for digital goods) unless `body.default_zone` is false.

    An imported key may already have a profile and DM relay list on Nostr, so
    they are only overwritten when this request sets them.
    """
    check_relays(host, body.relays)
    imported = body.private_key is not None
    key = parse_private_key(body.private_key) if body.private_key else PrivateKey.generate()
    profile = _profile(compat.dump(body.config, include=set(_PROFILE_FIELDS)))
    row = MerchantRow(
        id=new_id(),
        account_id=account_id,
        public_key=key.public_key,
        private_key_sealed=host.keystore.seal(key.hex),
        profile=compat.dump(profile, exclude_none=True),
        relays=list(body.relays),
        active=True if body.config.active is None else body.config.active,
    )
    async with host.db.transaction() as conn:
        await _check_new_merchant(conn, row)
        await merchants_crud.create_merchant(conn, row)
        if body.default_zone:
            await zones_crud.create_zone(conn, row.id, _online_zone())
        signer = publish.Signer(row.id, key, tuple(row.relays))
        lud16 = lightning_address(host.settings, key.public_key)
        if row.profile or (lud16 and not imported):
            await publish.publish_profile(conn, signer, profile, lud16)
        if not imported or row.relays:
            await publish.publish_dm_relays(conn, signer, dm_relays(host, row))
    logger.info("created merchant {} ({})", row.id, "imported key" if imported else "new key")
    if imported:
        await host.merchant_imported(row.id)  # before it is watched: see Runtime
    await merchants_changed(host, row.id)
    return await merchant_view(host.db, await merchants_crud.get_merchant(host.db, row.id))


async def _check_new_merchant(conn: Connection, row: MerchantRow) -> None:
    if await merchants_crud.get_merchant_for_account(conn, row.account_id) is not None:
        raise Conflict("this account already has a merchant")
    if await merchants_crud.get_merchant_id_by_public_key(conn, row.public_key) is not None:
        raise Conflict("a merchant with this public key already exists here")


def _online_zone() -> Zone:
    """The zone LNbits nostrmarket gives every new merchant, for digital goods."""
    return Zone(
        id=new_id(), name="Online", currency="sat", cost=Decimal(0), countries=["Free (digital)"]
    )


def _profile(values: dict[str, object]) -> MerchantProfile:
    return compat.validate(MerchantProfile, {k: v for k, v in values.items() if v is not None})


async def update_merchant(host: Host, merchant: MerchantRow, body: MerchantUpdate) -> Merchant:
    """`PATCH /merchant/{id}`: merge the profile fields given, set relays and active.

    A changed profile is republished as kind 0, changed relays as kind 10050.
    """
    if body.relays is not None:
        check_relays(host, body.relays)
    config = compat.dump(body.config, exclude_unset=True) if body.config else {}
    changes = {k: v for k, v in config.items() if k in _PROFILE_FIELDS}
    profile = _profile({**merchant.profile, **changes})
    relays = merchant.relays if body.relays is None else list(body.relays)
    active = merchant.active if config.get("active") is None else bool(config["active"])
    updated = replace(
        merchant, profile=compat.dump(profile, exclude_none=True), relays=relays, active=active
    )
    async with host.db.transaction() as conn:
        await merchants_crud.update_merchant(conn, merchant.id, updated.profile, relays, active)
        signer = publish.signer_for(host.keystore, updated)
        if changes:
            lud16 = lightning_address(host.settings, merchant.public_key)
            await publish.publish_profile(conn, signer, profile, lud16)
        if body.relays is not None and relays != merchant.relays:
            await publish.publish_dm_relays(conn, signer, dm_relays(host, updated))
    await merchants_changed(host, merchant.id)
    return await merchant_view(host.db, await merchants_crud.get_merchant(host.db, merchant.id))


async def toggle_merchant(host: Host, merchant: MerchantRow) -> Merchant:
    """`PUT /merchant/{id}/toggle`: flip whether the merchant takes orders."""
    async with host.db.transaction() as conn:
        current = await merchants_crud.get_merchant(conn, merchant.id) or merchant
        active = not current.active
        await merchants_crud.update_merchant(
            conn, merchant.id, current.profile, current.relays, active
        )
    await merchants_changed(host, merchant.id)
    return await merchant_view(host.db, await merchants_crud.get_merchant(host.db, merchant.id))


async def delete_merchant(host: Host, merchant: MerchantRow) -> None:
    """`DELETE /merchant/{id}`: remove the merchant and its catalogue from this server.

    Nothing is deleted on relays; `DELETE /merchant/{id}/nostr` does that.
    """
    try:
        async with host.db.transaction() as conn:
            await merchants_crud.delete_merchant(conn, merchant.id)
    except IntegrityError as error:
        logger.warning("cannot delete merchant {}: {}", merchant.id, error)
        raise Conflict("the merchant still has records that must be kept") from None
    logger.info("deleted merchant {}", merchant.id)
    await merchants_changed(host, merchant.id)


async def merchant_view(db: Database, merchant: MerchantRow | None) -> Merchant:
    """The API view of a merchant, with what was last published for it."""
    if merchant is None:  # deleted between the write and this read
        raise NotFound("merchant not found")
    profile = await latest_outbox_event(db, merchant.id, publish.PURPOSE_PROFILE)
    relays = await latest_outbox_event(db, merchant.id, publish.PURPOSE_DM_RELAYS)
    ids = [found[0] for found in (profile, relays) if found]
    publications = await get_publications(db, ids)
    return Merchant(
        id=merchant.id,
        public_key=merchant.public_key,
        npub=npub_encode(merchant.public_key),
        config=MerchantConfig(
            **merchant.profile, active=merchant.active, event_id=profile[0] if profile else None
        ),
        relays=merchant.relays,
        time=merchant.updated_at or merchant.created_at,
        publication=MerchantPublication(
            profile=publication_of(publications, *(profile or (None, None))),
            dm_relays=publication_of(publications, *(relays or (None, None))),
        ),
    )
