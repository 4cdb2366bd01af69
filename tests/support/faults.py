"""Real faults for the fault tests: a database that cannot grow (SQLite's own page limit,
so SQLITE_FULL comes from SQLite itself), another process holding the write lock, and
what each table holds, to show that nothing was half-written."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.services.deps import Merchant
from nostrbazaar.storage.database import Database
from support.orders_fixtures import order_content

# Every table an order (or its refusal) writes to.
ORDER_TABLES = (
    "orders", "order_events", "invoices", "reservations", "stock_ledger", "outbox",
    "direct_messages",
)  # fmt: skip
NO_LIMIT = 1 << 30


def _raw(db: Database) -> sqlite3.Connection:
    writer = db._writer
    assert writer is not None, "the database is not connected"
    return writer.raw


def fill_disk(db: Database, spare_pages: int = 0) -> int:
    """Let the writer's database grow by `spare_pages` pages at most; the limit set.

    Free pages inside the file (left by migrations) would be used before the file grows,
    so the test fails if there are any: call `compact` first.
    """
    raw = _raw(db)
    assert int(raw.execute("PRAGMA freelist_count").fetchone()[0]) == 0, "compact() first"
    pages = int(raw.execute("PRAGMA page_count").fetchone()[0])
    return int(raw.execute(f"PRAGMA max_page_count = {pages + spare_pages}").fetchone()[0])


async def compact(db: Database) -> None:
    """VACUUM: no free pages left inside the file, so a new row needs the file to grow."""
    await db.executescript("VACUUM")


def free_disk(db: Database) -> None:
    """Lift the page limit again (the disk has room)."""
    _raw(db).execute(f"PRAGMA max_page_count = {NO_LIMIT}")


async def table_counts(db: Database, tables: tuple[str, ...] = ORDER_TABLES) -> dict[str, int]:
    """How many rows each table holds."""
    counts = {}
    for table in tables:
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
        counts[table] = int(row[0]) if row is not None else -1
    return counts


_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the write lock until told (or until stdin closes)
    conn.rollback()
    print("released", flush=True)
    """
)


class LockHolder:
    """A second process that takes the SQLite write lock on a file and holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and return once it holds the lock."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _HOLDER, str(self.path),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert await self._line() == "locked"

    async def release(self) -> None:
        """Tell the process to roll back and end; return once it has."""
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.write(b"\n")
        await process.stdin.drain()
        assert await self._line() == "released"
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 10)
        self._process = None

    async def close(self) -> None:
        """End the process if it still runs (a test that failed half-way)."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def _line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 10)
        return line.decode().strip()


@asynccontextmanager
async def running_app(
    data_dir: Path, *, background: bool = False
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The whole app on `data_dir` (embedded relay, fake wallet) and a client speaking ASGI."""
    app = create_app(Settings(data_dir=data_dir, secret="test-secret"))
    app.state.runtime.background = background
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, app.state.runtime


@dataclass(frozen=True)
class ApiShop:
    """An account, its merchant, a zone and one product of 5 in stock, made through the API."""

    http: httpx.AsyncClient
    runtime: Runtime
    admin: dict[str, str]
    merchant: Merchant
    zone_id: str
    product_id: str

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body, headers=self.admin)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", headers=self.admin)

    def order(self, order_id: str, **extra: Any) -> str:
        """The content of a customer's order for one unit of the product."""
        return order_content(order_id, [(self.product_id, 1)], self.zone_id, **extra)

    async def orders(self) -> list[tuple[str, str]]:
        """(id, status) of every order, through the API."""
        listed = await self.get("/order")
        assert listed.status_code == 200, listed.text
        return sorted((order["id"], order["status"]) for order in listed.json())


async def open_api_shop(http: httpx.AsyncClient, runtime: Runtime) -> ApiShop:
    """Sign up, create the merchant, a zone, a stall and a product."""
    account = (await http.post("/api/v1/account", json={"name": "Tea"})).json()
    admin = {"X-Api-Key": account["adminkey"]}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(f"/api/v1{path}", json=body, headers=admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    merchant = await post("/merchant", {"config": {"name": "Tea"}})
    zone = await post("/zone", {"name": "Europe", "currency": "sat", "cost": 2,
                                "countries": ["Portugal"]})  # fmt: skip
    stall = await post("/stall", {"name": "Teas", "currency": "sat",
                                  "shipping_zones": [zone["id"]]})  # fmt: skip
    product = await post("/product", {"stall_id": stall["id"], "name": "Sencha",
                                      "price": 100, "quantity": 5})  # fmt: skip
    opened = await runtime.deps.merchants.get(merchant["id"])
    return ApiShop(http, runtime, admin, opened, zone["id"], product["id"])
