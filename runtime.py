"""The running process: database, keys, relays, wallet, and background tasks.

Built from `Settings` by `Runtime.start()` and torn down by `stop()`; the web
app keeps one on `app.state.runtime`. Nothing here is a module-level singleton:
tests build as many runtimes as they like.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from .bus import Bus
from .config import Settings
from .db import Database
from .embedded_relay import EmbeddedRelay
from .keystore import KeyStore, load_secret
from .migrations import run_migrations


@dataclass
class Runtime:
    """Everything a request handler or background task needs, passed explicitly."""

    settings: Settings
    db: Database = field(init=False)
    keystore: KeyStore = field(init=False)
    relays: tuple[str, ...] = ()
    bus: Bus = field(default_factory=Bus)
    # Wired as their issues land: nostr.relay_pool.RelayPool and a wallets.base.Wallet.
    pool: Any = None
    wallet: Any = None
    embedded_relay: EmbeddedRelay | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def start(self) -> None:
        settings = self.settings
        self.db = Database(settings.database_path)
        await self.db.connect()
        await run_migrations(self.db)
        self.keystore = KeyStore(load_secret(settings.secret, settings.data_dir))
        self.relays = settings.relays or (await self._start_embedded_relay(),)

    async def _start_embedded_relay(self) -> str:
        self.embedded_relay = EmbeddedRelay()
        url = await self.embedded_relay.start()
        logger.warning(
            "NOSTRBAZAAR_RELAYS is empty: using an embedded relay at {} (in memory, this "
            "machine only). Set NOSTRBAZAAR_RELAYS to reach real customers.",
            url,
        )
        return url

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.embedded_relay is not None:
            await self.embedded_relay.stop()
        await self.db.close()

    async def health(self) -> dict[str, Any]:
        return {
            "database": "ok" if await self.db.ping() else "unavailable",
            "relays": dict.fromkeys(self.relays, "configured"),
            "embedded_relay": self.embedded_relay is not None,
        }
