"""The runtime under LNbits: the same engine, with LNbits' database file, wallets and keys.

LNbits starts an extension by calling `nostrbazaar_start()` (no argument, not awaited)
and stops it with `nostrbazaar_stop()`. So the runtime lives in one `LNbitsHost` per
loaded package, whose start runs as an LNbits task: LNbits cancels its tasks when it
shuts down, and the task's cancellation stops the runtime (closing the database, whose
threads would otherwise keep the process alive).

What differs from standalone:
- the database is where LNbits keeps the extension's data: the SQLite file
  `ext_nostrbazaar.sqlite3`, or LNbits' PostgreSQL database in the schema `nostrbazaar`;
  migrated by the same steps (see `migrations.run_in_host`);
- invoices are made in each merchant's LNbits wallet (`wallets.lnbits_internal`);
- keys are LNbits' wallet keys (`auth.LNbitsKeys`); there is no sign-up;
- relays: `NOSTRBAZAAR_RELAYS` if the admin set it in LNbits' environment, plus every
  relay an active merchant named (no embedded relay); the data directory for the sealing
  secret is `<LNBITS_DATA_FOLDER>/nostrbazaar`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from loguru import logger
from starlette.requests import HTTPConnection

from ..config import Settings
from ..crud.merchants import active_merchant_relays, get_merchant
from ..engine.runtime import Runtime
from ..storage.keystore import load_secret
from ..wallets.base import WalletError
from ..wallets.lnbits_internal import LNbitsInternalWallet
from .auth import EXT_ID, LNbitsKeys

TASK_NAME = "ext_nostrbazaar_runtime"


def lnbits_settings(lnbits: Any) -> Settings:
    """NOSTRBAZAAR_* settings from LNbits' environment, placed in LNbits' world."""
    return dataclasses.replace(
        Settings.from_env(),
        host=str(lnbits.host),
        port=int(lnbits.port),
        data_dir=Path(lnbits.lnbits_data_folder) / EXT_ID,
        wallet="lnbits",
        allow_signup=False,  # accounts are LNbits wallets
    )


@dataclass
class LNbitsRuntime(Runtime):
    """The standalone runtime, with the merchants' own relays in its pool."""

    async def _relays(self) -> tuple[str, ...]:
        """The operator's relays only: inside LNbits there is no embedded relay."""
        return self.settings.relays

    async def _start_engine(self) -> None:
        await super()._start_engine()
        await self.add_merchant_relays()

    async def add_merchant_relays(self) -> None:
        """Connect to every relay an active merchant named (kept when it drops one)."""
        if self.pool is None:
            return
        for url in await active_merchant_relays(self.db):
            await self.pool.add_relay(url)

    async def merchant_changed(self, merchant_id: str) -> None:
        await self.add_merchant_relays()
        await super().merchant_changed(merchant_id)


class LNbitsHost:
    """Starts, serves and stops one runtime for the extension."""

    def __init__(self, database_file: Path, database_url: str | None = None) -> None:
        self.database_file = database_file
        self.database_url = database_url  # LNbits on PostgreSQL: a URL into our schema
        self.runtime: LNbitsRuntime | None = None
        self._task: Any = None  # lnbits.task_manager.Task
        self._stopped = asyncio.Event()

    def start_soon(self) -> None:
        """Start the runtime in an LNbits task (LNbits calls the start hook synchronously)."""
        from lnbits.task_manager import task_manager

        self._stopped.clear()
        self._task = task_manager.create_task(self._run(), name=TASK_NAME)

    async def _run(self) -> None:
        from lnbits.settings import settings

        runtime = self._new_runtime(self._settings(lnbits_settings(settings)))
        try:
            await runtime.start()
        except Exception as error:
            logger.opt(exception=error).error("nostrbazaar could not start inside LNbits")
            return
        self.runtime = runtime
        where = "PostgreSQL" if self.database_url else self.database_file
        logger.info("nostrbazaar started inside LNbits ({})", where)
        try:
            await self._stopped.wait()
        finally:
            self.runtime = None
            await asyncio.shield(runtime.stop())
            logger.info("nostrbazaar stopped")

    def _settings(self, settings: Settings) -> Settings:
        """On PostgreSQL, LNbits' database (in our schema); the sealing secret stays one
        this LNbits keeps (NOSTRBAZAAR_SECRET, or the file in its data folder)."""
        if self.database_url is None:
            return settings
        secret = load_secret(settings.secret, settings.data_dir)
        return dataclasses.replace(settings, database_url=self.database_url, secret=secret)

    def _new_runtime(self, settings: Settings) -> LNbitsRuntime:
        runtime = LNbitsRuntime(settings, database_path=self.database_file)

        async def wallet_of(merchant_id: str) -> str:
            merchant = await get_merchant(runtime.db, merchant_id)
            if merchant is None:
                raise WalletError(f"merchant {merchant_id} has no LNbits wallet here")
            return merchant.account_id  # the account of a merchant is its LNbits wallet

        runtime.wallet = LNbitsInternalWallet(wallet_of)
        runtime.key_check = _LazyKeys(runtime)
        return runtime

    async def stop(self) -> None:
        """Stop the runtime and wait until it is closed."""
        from lnbits.task_manager import task_manager

        self._stopped.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task.task), timeout=30)
        except (TimeoutError, asyncio.CancelledError):
            pass
        if task in task_manager.tasks:
            task_manager.tasks.remove(task)

    def attach(self, connection: HTTPConnection) -> None:
        """Put the running runtime on the request (our routes find it there), or 503."""
        if self.runtime is None or not self.runtime.started:
            raise HTTPException(503, "nostrbazaar is starting (or could not start: see the log)")
        connection.state.nostrbazaar_runtime = self.runtime


class _LazyKeys:
    """LNbits' key check on the runtime's database, made once the database is open."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._keys: LNbitsKeys | None = None

    async def __call__(self, key: str) -> Any:
        if self._keys is None:
            self._keys = LNbitsKeys(self._runtime.db)
        return await self._keys(key)
