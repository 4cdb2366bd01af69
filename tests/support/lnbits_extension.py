"""nostrbazaar installed into a real LNbits the way an admin does it, for tests/lnbits.

- the packaged extension (`scripts/package.py`) served on 127.0.0.1 as an extension
  source: its `manifest.json` and zip, by a plain HTTP server in a thread;
- LNbits 1.6.2 (`support.lnbits_server`) started with its own extensions folder and
  the nostrbazaar settings the admin would put in its environment;
- the super user adds the manifest URL (`PATCH /admin/api/v1/settings`), lists the
  releases (`GET /api/v1/extension/{id}/releases`) and installs one (`POST /api/v1/extension`);
- a user registers (`POST /api/v1/auth/register`) and enables it (`PUT .../{id}/enable`).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from nostrbazaar.engine.embedded_relay import EmbeddedRelay, free_port
from nostrbazaar.storage.engines import in_schema
from support.lnbits_server import LNbitsServer

REPO_ROOT = Path(__file__).resolve().parents[2]
EXT_ID = "nostrbazaar"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, fmt: str, *args: Any) -> None:  # requests are not news
        pass


class DirectoryServer:
    """A folder served over HTTP on 127.0.0.1 (an extension source), in a thread."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        handler = functools.partial(_Quiet, directory=str(directory))
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def build_package(out: Path, base_url: str) -> tuple[Path, Path]:
    """`make package` into `out`, the archive URL starting with `base_url`."""
    spec = importlib.util.spec_from_file_location(
        "package_script", REPO_ROOT / "scripts/package.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    zip_path, manifest = module.build(out, base_url)
    return zip_path, manifest


def ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; anything else fails with the answer's text."""
    assert response.status_code < 300, (
        f"{response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


async def install(http: httpx.AsyncClient, admin_token: str, manifest_url: str) -> dict[str, Any]:
    """What an admin does: add the source, pick its release, install it."""
    bearer = {"Authorization": f"Bearer {admin_token}"}
    ok(
        await http.patch(
            "/admin/api/v1/settings",
            headers=bearer,
            json={"lnbits_extensions_manifests": [manifest_url]},
        )
    )
    releases = ok(await http.get(f"/api/v1/extension/{EXT_ID}/releases", headers=bearer))
    [release] = [r for r in releases if r["source_repo"] == manifest_url]
    body = {
        "ext_id": EXT_ID,
        "archive": release["archive"],
        "source_repo": release["source_repo"],
        "version": release["version"],
    }
    installed: dict[str, Any] = ok(
        await http.post("/api/v1/extension", headers=bearer, json=body, timeout=120)
    )
    return installed


@dataclass
class LNbitsUser:
    """An LNbits user with one wallet: its keys, and a session token."""

    id: str
    wallet_id: str
    adminkey: str
    inkey: str
    token: str


async def new_user(http: httpx.AsyncClient, name: str) -> LNbitsUser:
    """A new LNbits user, registered with a password (its first wallet made by LNbits)."""
    password = secrets.token_hex(12)
    session = ok(
        await http.post(
            "/api/v1/auth/register",
            json={"username": name, "password": password, "password_repeat": password},
        )
    )
    token = session["access_token"]
    user = ok(await http.get("/api/v1/auth", headers={"Authorization": f"Bearer {token}"}))
    wallet = user["wallets"][0]
    return LNbitsUser(user["id"], wallet["id"], wallet["adminkey"], wallet["inkey"], token)


async def enable(http: httpx.AsyncClient, user: LNbitsUser) -> None:
    """The user turns the extension on for themselves."""
    headers = {"Authorization": f"Bearer {user.token}"}
    ok(await http.put(f"/api/v1/extension/{EXT_ID}/enable", headers=headers))


# -- the shop the tests/lnbits journeys use --------------------------------------------------

API = f"/{EXT_ID}/api/v1"
START_TIMEOUT = 60.0


@dataclass
class Shop:
    """LNbits with nostrbazaar installed, its relay, and a user's merchant, stall and product."""

    server: LNbitsServer
    relay_url: str
    http: httpx.AsyncClient
    user: LNbitsUser
    merchant: dict[str, Any]
    zone_id: str
    product_id: str
    installed: dict[str, Any]
    data_dir: Path
    database_url: str | None  # LNbits on PostgreSQL; None: SQLite in its data folder

    def admin(self) -> dict[str, str]:
        return {"X-Api-Key": self.user.adminkey}

    def read(self) -> dict[str, str]:
        return {"X-Api-Key": self.user.inkey}


async def until_started(http: httpx.AsyncClient) -> None:
    """The runtime starts in an LNbits task after the install: wait for its health."""
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        if (await http.get(f"{API}/health")).status_code == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("nostrbazaar did not start inside LNbits")


async def _catalogue(http: httpx.AsyncClient, key: dict[str, str]) -> tuple[Any, str, str]:
    merchant = ok(await http.post(f"{API}/merchant", headers=key, json={"config": {"name": "Tea"}}))
    [zone] = ok(await http.get(f"{API}/zone", headers=key))
    stall = {"name": "Green teas", "currency": "sat", "shipping_zones": [zone["id"]]}
    stall_id = ok(await http.post(f"{API}/stall", headers=key, json=stall))["id"]
    product = {"stall_id": stall_id, "name": "Sencha", "price": 2100, "quantity": 5}
    product_id = ok(await http.post(f"{API}/product", headers=key, json=product))["id"]
    return merchant, zone["id"], product_id


@asynccontextmanager
async def installed_shop(work: Path, database_url: str | None) -> AsyncIterator[Shop]:
    """A relay, the package served, LNbits started (on `database_url`, else SQLite), the
    extension installed by the admin, and a user's shop in it; all stopped afterwards."""
    relay = EmbeddedRelay()
    relay_url = await relay.start()
    files = DirectoryServer(work / "dist")
    build_package(work / "dist", files.url)
    files.start()
    server = LNbitsServer(work / "lnbits")
    server.extra_env = {
        "LNBITS_EXTENSIONS_PATH": str(work / "extensions"),
        "LNBITS_EXTENSIONS_BUILDER_MANIFEST_URL": f"{files.url}/no-builder.json",
        "NOSTRBAZAAR_RELAYS": relay_url,  # what the admin sets in LNbits' environment
        "NOSTRBAZAAR_SECRET": "lnbits-test-secret",
    }
    if database_url is not None:  # LNbits wants postgres://
        server.extra_env["LNBITS_DATABASE_URL"] = "postgres://" + database_url.split("://", 1)[1]
    try:
        await asyncio.to_thread(server.start)
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            assert server.admin_token is not None
            installed = await install(http, server.admin_token, f"{files.url}/manifest.json")
            user = await new_user(http, "teashop")
            await enable(http, user)
            await until_started(http)
            merchant, zone_id, product_id = await _catalogue(http, {"X-Api-Key": user.adminkey})
            yield Shop(
                server, relay_url, http, user, merchant, zone_id, product_id, installed,
                work / "lnbits" / "data", database_url,
            )  # fmt: skip
    finally:
        await asyncio.to_thread(server.stop)
        files.stop()
        await relay.stop()


async def schema_facts(shop: Shop) -> tuple[list[str], set[str]]:
    """The migrations applied and the triggers present, where LNbits keeps our data."""
    if shop.database_url is None:
        with sqlite3.connect(shop.data_dir / f"ext_{EXT_ID}.sqlite3") as conn:
            steps = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]
            named = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return steps, {r[0] for r in named}
    conn = await asyncpg.connect(in_schema(shop.database_url, EXT_ID))
    try:
        steps = [r[0] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY 1")]
        named = await conn.fetch(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
            EXT_ID,
        )
        return steps, {r[0] for r in named}
    finally:
        await conn.close()


async def refused(shop: Shop, statement: str, value: str) -> bool:
    """Whether the database LNbits keeps for us refuses `statement` (its `?` is `value`)."""
    if shop.database_url is None:
        with sqlite3.connect(shop.data_dir / f"ext_{EXT_ID}.sqlite3", timeout=10) as conn:
            try:
                conn.execute(statement, (value,))
            except sqlite3.IntegrityError:
                return True
            conn.rollback()
            return False
    conn = await asyncpg.connect(in_schema(shop.database_url, EXT_ID))
    try:
        await conn.execute(statement.replace("?", "$1"), value)
    except asyncpg.PostgresError:
        return True
    finally:
        await conn.close()
    return False
