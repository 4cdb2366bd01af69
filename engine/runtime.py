"""The running process: database, keys, relays, wallet, and background tasks.

Built from `Settings` by `Runtime.start()` and torn down by `stop()`; the web
app keeps one on `app.state.runtime`. Nothing here is a module-level singleton:
tests build as many runtimes as they like.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from ..config import ConfigError, Settings
from ..migrations import run_migrations
from ..services.bus import Bus
from ..storage.database import Database
from ..storage.engines import DatabaseUnavailable, open_database
from ..storage.keystore import KeyStore, load_secret
from .bus_bridge import BusBridge
from .embedded_relay import EmbeddedRelay, RelayPortInUse
from .relay_store import FILE_NAME as RELAY_STORE


async def connect_database(settings: Settings, path: Path | None = None) -> Database:
    """The configured database, connected; a bad URL or an unreachable server is a
    `ConfigError` naming NOSTRBAZAAR_DATABASE_URL (one line, no traceback). `path`: a
    SQLite file a host chose (LNbits: its extension's), instead of the data directory's."""
    try:
        db = open_database(settings.database_url, path or settings.database_path)
        await db.connect()
    except DatabaseUnavailable as error:
        raise ConfigError("DATABASE_URL", str(error)) from None
    return db


@dataclass
class Runtime:
    """Everything a request handler or background task needs, passed explicitly.

    `deps` is what the order services take; `engine` runs ingest, the outbox
    publisher, the expiry sweeper and the settlement consumer.
    """

    settings: Settings
    db: Database = field(init=False)
    keystore: KeyStore = field(init=False)
    relays: tuple[str, ...] = ()
    bus: Bus = field(default_factory=Bus)
    pool: Any = None  # nostr.relay_pool.RelayPool
    wallet: Any = None  # wallets.base.Wallet
    deps: Any = None  # services.deps.Deps
    engine: Any = None  # services.background.OrderEngine
    jobs: Any = None  # engine.jobs.JobRunner: restores as jobs (runs without `background` too)
    embedded_relay: EmbeddedRelay | None = None
    rates: Any = None  # orders.rates.RateProvider: fixed, or live (services.live_rates)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    background: bool = True  # False: no engine tasks (tools and some tests)
    # A host that keeps the database elsewhere (LNbits: its extension's file) names it here.
    database_path: Path | None = None
    # A host with API keys of its own checks them: async (key) -> (AccountRow, is_admin) | None
    # (LNbits: its wallets' admin and invoice keys); None: our accounts' keys.
    key_check: Any = None
    started: bool = False
    # This process among the instances sharing a database (in leases and in health).
    bridge: BusBridge | None = None
    instance_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{secrets.token_hex(4)}"
    )

    async def start(self) -> None:
        """Start everything; if a step fails, stop what already started (the embedded relay,
        the database, ...) and raise, so a failed start leaves nothing running."""
        try:
            await self._start()
        except BaseException:
            try:
                await self.stop()
            except Exception as error:  # the start-up failure is the news; this is detail
                logger.warning("stopping after a failed start-up: {}", error)
            raise
        self.started = True

    async def _start(self) -> None:
        settings = self.settings
        settings.check_secret()
        self.db = await connect_database(settings, self.database_path)
        await run_migrations(self.db)
        async with self.db.migration_lock():
            await self._check_transitions()
        self.keystore = KeyStore(load_secret(settings.secret, settings.data_dir))
        self.relays = await self._relays()
        self.rates = self._rates()
        await self._start_wallet()
        if self.db.shared:  # other instances' changes reach this one's dashboards
            self.bridge = BusBridge(self.db, self.bus, self.instance_id)
            await self.bridge.start()
        await self._start_engine()

    async def _check_transitions(self) -> None:
        """Keep the database's transition table equal to `orders.TRANSITIONS` (invariant 5).

        The rules are defined once, in code; should a release change them, the
        table the trigger consults is rewritten here, in one transaction.
        """
        from ..migrations import write_order_transitions
        from ..orders.machine import TRANSITIONS

        rows = await self.db.fetchall("SELECT from_status, to_status FROM order_transitions")
        if {(row[0], row[1]) for row in rows} == {(str(a), str(b)) for a, b in TRANSITIONS}:
            return
        logger.warning("order_transitions differs from orders.TRANSITIONS: rewriting it")
        async with self.db.transaction() as conn:
            await write_order_transitions(conn)

    async def _relays(self) -> tuple[str, ...]:
        """The operator's relays, or an embedded one when none is configured."""
        return self.settings.relays or (await self._start_embedded_relay(),)

    async def _start_embedded_relay(self) -> str:
        """The relay `make run` serves when none is configured: on a fixed port, its events
        kept in the data directory, so a restart keeps the shop where customers saw it."""
        settings = self.settings
        # With a shared database nothing is kept in the data dir: the relay is in memory.
        store = None if settings.database_url else settings.data_dir / RELAY_STORE
        relay = EmbeddedRelay(settings.embedded_relay_port or None, store)
        try:
            url = await relay.start()
        except RelayPortInUse as error:
            raise ConfigError(
                "EMBEDDED_RELAY_PORT", f"{error}: stop what uses it, or choose another port"
            ) from None
        self.embedded_relay = relay
        logger.warning(
            "NOSTRBAZAAR_RELAYS is empty: using an embedded relay at {} (this machine only; "
            "its events are kept in {}). Set NOSTRBAZAAR_RELAYS to reach real customers.",
            url,
            store,
        )
        return url

    def _rates(self) -> Any:
        """Live rates from NOSTRBAZAAR_RATES_URL (fixed ones as the fallback), or fixed."""
        from ..orders.rates import FixedRates
        from ..services.live_rates import LiveRates

        settings = self.settings
        if settings.rates_url is None:
            return FixedRates(settings.fiat_rates)
        return LiveRates(settings.rates_url, settings.fiat_rates, settings.rates_refresh_seconds)

    async def _keep_rates_fresh(self, rates: Any) -> None:
        """Fetch the live rates now and every refresh interval (failures keep the last)."""
        while True:
            await rates.refresh()
            await asyncio.sleep(rates.refresh_seconds)

    async def _start_wallet(self) -> None:
        """The configured backend; a wrong or unreachable one stops start-up, named."""
        from ..wallets import make_wallet

        if self.wallet is None:
            self.wallet = make_wallet(self.settings, self.settings.data_dir, db=self.db)
        await self.wallet.start()

    async def _start_engine(self) -> None:
        from ..nostr.relay_pool import RelayPool
        from ..services.deps import Deps
        from .background import OrderEngine
        from .jobs import JobRunner

        self.deps = Deps.from_runtime(self)
        self.pool = RelayPool(self.relays, on_reject=self._on_reject)
        self.engine = OrderEngine(self.deps, self.pool)
        self.jobs = JobRunner(self.deps, self.pool)
        await self.jobs.start()  # what a stopped process left running is now interrupted
        await self.pool.start()
        if self.background:
            await self.engine.start()
            if hasattr(self.rates, "refresh"):
                self.tasks.append(asyncio.create_task(self._keep_rates_fresh(self.rates)))

    async def merchant_imported(self, merchant_id: str) -> None:
        """A merchant created with a key it already used elsewhere (recovery from the key alone).

        With no catalogue here, live catch-up would take the last two days of orders as new,
        against an empty shop, and refuse them all. So its whole history is restored first, as
        a job (catalogue, then orders with the merchant's own answers), and live ingest starts
        for it once the job has ended.
        """
        from ..crud.recovery import has_catalogue

        if not (self.background and self.engine and self.jobs):
            return
        if await has_catalogue(self.db, merchant_id):
            return
        self.engine.hold(merchant_id)
        job = await self.jobs.restore(merchant_id)
        logger.info(
            "merchant {} imported: restoring its history first (job {})", merchant_id, job.id
        )
        self.tasks.append(asyncio.create_task(self._watch_after(job.id, merchant_id)))

    async def _watch_after(self, job_id: str, merchant_id: str) -> None:
        await self.jobs.wait(job_id)
        await self.engine.release(merchant_id)

    async def merchant_changed(self, merchant_id: str) -> None:
        """Drop the cached merchant and resubscribe at once.

        The engine refreshes every 30 s anyway, so a failure here is only logged.
        """
        if self.deps is not None:
            self.deps.merchants.forget(merchant_id)
        if self.engine is not None:
            try:
                await self.engine.refresh()
            except Exception as error:  # the periodic refresh will catch up
                logger.warning("order engine refresh after merchant change failed: {}", error)

    def _on_reject(self, relay: str, raw: object, reason: str) -> None:
        if self.engine is not None:
            self.engine.on_reject(relay, raw, reason)

    async def stop(self) -> None:
        if self.jobs is not None:
            await self.jobs.stop()  # running jobs end `interrupted`, while the database is open
        if self.engine is not None:
            await self.engine.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.pool is not None:
            await self.pool.close()
        if self.wallet is not None:
            await self.wallet.stop()
        if self.embedded_relay is not None:
            await self.embedded_relay.stop()
            self.embedded_relay = None
        if self.bridge is not None:
            await self.bridge.stop()
            self.bridge = None
        db: Database | None = getattr(self, "db", None)  # unset when start failed before it
        if db is not None:
            await db.close()
        self.started = False

    async def health(self) -> dict[str, Any]:
        relays = self.pool.status() if self.pool is not None else {}
        return {
            "database": "ok" if await self.db.ping() else "unavailable",
            "storage": await self._storage_health(),
            "relays": {url: relays.get(url, "configured") for url in self.relays},
            "embedded_relay": self.embedded_relay is not None,
            "wallet": await self._wallet_health(),
            "rates": self.rates.status() if hasattr(self.rates, "status") else {"source": "fixed"},
        }

    async def _storage_health(self) -> dict[str, Any]:
        """The engine (and its server's version), and which instance answered."""
        try:
            described = await self.db.describe()
        except Exception as error:  # health must answer even when the database does not
            described = {"engine": self.db.engine, "error": str(error)}
        return {**described, "instance": self.instance_id}

    async def _wallet_health(self) -> dict[str, Any]:
        if self.wallet is None:
            return {"backend": self.settings.wallet, "ok": False, "detail": "not started"}
        try:
            health: dict[str, Any] = await self.wallet.health()
        except Exception as error:  # health must answer even when the wallet does not
            return {"backend": self.settings.wallet, "ok": False, "detail": str(error)}
        return health
