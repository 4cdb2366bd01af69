"""What the order services need, passed in explicitly (no module-level singletons).

`Deps` is built once per process from its host (`Deps.from_runtime`) or by a
test from its own parts. `Merchants` caches each merchant's opened private key,
so the key store is not asked again for every message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..nostr.keys import PrivateKey
from ..orders.rates import FixedRates, RateProvider
from ..storage.database import Database
from ..storage.keystore import KeyStore
from ..wallets.base import Wallet
from .bus import Bus

if TYPE_CHECKING:
    from .host import Host


class MerchantNotFound(LookupError):
    """No merchant with this id (or public key)."""


@dataclass(frozen=True)
class Merchant:
    id: str
    public_key: str
    key: PrivateKey = field(repr=False)
    relays: tuple[str, ...] = ()
    active: bool = True


class Merchants:
    """Merchants with their opened keys, cached by id and by public key."""

    def __init__(self, db: Database, keystore: KeyStore) -> None:
        self._db = db
        self._keystore = keystore
        self._by_id: dict[str, Merchant] = {}
        self._by_pubkey: dict[str, str] = {}

    async def get(self, merchant_id: str) -> Merchant:
        cached = self._by_id.get(merchant_id)
        if cached is not None:
            return cached
        row = await self._db.fetchone(_SELECT + " WHERE id = ?", (merchant_id,))
        if row is None:
            raise MerchantNotFound(f"merchant {merchant_id} not found")
        return self._remember(row)

    async def by_pubkey(self, public_key: str) -> Merchant | None:
        merchant_id = self._by_pubkey.get(public_key)
        if merchant_id is not None:
            return self._by_id[merchant_id]
        row = await self._db.fetchone(_SELECT + " WHERE public_key = ?", (public_key,))
        return None if row is None else self._remember(row)

    async def all(self) -> list[Merchant]:
        """Every merchant, active or not, read fresh: an inactive one is still watched (its
        open orders go on; its new orders are refused)."""
        rows = await self._db.fetchall(_SELECT + " ORDER BY created_at")
        return [self._remember(row) for row in rows]

    async def active(self) -> list[Merchant]:
        """Every active merchant, read fresh (merchants come and go while we run)."""
        rows = await self._db.fetchall(_SELECT + " WHERE active = 1 ORDER BY created_at")
        return [self._remember(row) for row in rows]

    @property
    def keystore(self) -> KeyStore:
        """The key store that seals the merchants' keys (and the ecash they hold)."""
        return self._keystore

    def cached(self) -> list[Merchant]:
        """The merchants opened so far (no database access)."""
        return list(self._by_id.values())

    def forget(self, merchant_id: str) -> None:
        """Drop a cached merchant (after it was changed or deleted)."""
        merchant = self._by_id.pop(merchant_id, None)
        if merchant is not None:
            self._by_pubkey.pop(merchant.public_key, None)

    def _remember(self, row: Any) -> Merchant:
        key = PrivateKey.from_hex(self._keystore.open(row["private_key_sealed"]))
        relays = tuple(r for r in json.loads(row["relays"] or "[]") if isinstance(r, str))
        merchant = Merchant(row["id"], row["public_key"], key, relays, bool(row["active"]))
        self._by_id[merchant.id] = merchant
        self._by_pubkey[merchant.public_key] = merchant.id
        return merchant


_SELECT = "SELECT id, public_key, private_key_sealed, relays, active FROM merchants"


@dataclass
class Deps:
    """The order engine's dependencies; `clock` is injectable for tests of expiry."""

    db: Database
    settings: Settings
    merchants: Merchants
    wallet: Wallet
    bus: Bus
    rates: RateProvider
    clock: Callable[[], float] = time.time

    def now(self) -> int:
        return int(self.clock())

    @classmethod
    def from_runtime(cls, runtime: Host) -> Deps:
        """The dependencies of a running host (the standalone `Runtime`, or LNbits)."""
        return cls(
            db=runtime.db,
            settings=runtime.settings,
            merchants=Merchants(runtime.db, runtime.keystore),
            wallet=runtime.wallet,
            bus=runtime.bus,
            rates=getattr(runtime, "rates", None) or FixedRates(runtime.settings.fiat_rates),
        )
