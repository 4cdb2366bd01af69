"""What the process that hosts the services gives them, as a structural type.

The catalogue and account services need the database, the sealed keys, the
settings, the bus and the relays, and must tell the running engine when a
merchant changes. They ask for this `Host` rather than for the standalone
`engine.runtime.Runtime`, so they run the same under another host (LNbits)
and the service layer never imports the engine above it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..config import Settings
from ..storage.database import Database
from ..storage.keystore import KeyStore
from .bus import Bus


class Host(Protocol):
    settings: Settings
    db: Database
    keystore: KeyStore
    relays: tuple[str, ...]
    bus: Bus
    wallet: Any  # wallets.base.Wallet
    pool: Any  # nostr.relay_pool.RelayPool, or None before start-up

    async def merchant_changed(self, merchant_id: str) -> None:
        """Forget the cached merchant and resubscribe to its messages."""
        ...

    async def merchant_imported(self, merchant_id: str) -> None:
        """A merchant was created with a key it already used: bring its history back first."""
        ...
