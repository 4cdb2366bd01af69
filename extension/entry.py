"""What LNbits reads from the extension package (the root `__init__` hands these out).

- `db`: LNbits' `Database("ext_nostrbazaar")`; LNbits runs `migrations.m00N_*` with its
  connections, which run our steps on the file it names (`migrations.run_in_host`);
- `nostrbazaar_ext`: the router LNbits mounts: the API under `/nostrbazaar/api/v1`
  (LNbits' wallet keys), the dashboard at `/nostrbazaar/`, the market at `/nostrbazaar/market`;
- `nostrbazaar_static_files`: `static/`, mounted by LNbits at `/nostrbazaar/static`;
- `nostrbazaar_start()` / `nostrbazaar_stop()`: the runtime (see `host`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from lnbits.db import Database
from lnbits.settings import settings as lnbits_settings
from starlette.requests import HTTPConnection

from ..storage.engines import in_schema
from ..views_api import api_router
from .auth import EXT_ID
from .host import LNbitsHost
from .pages import pages_router

db = Database(f"ext_{EXT_ID}")
# Where LNbits keeps the extension's data: a SQLite file in its data folder, or its
# PostgreSQL database, in the schema named for the extension (LNbits creates it).
if db.type == "SQLITE":
    host = LNbitsHost(Path(db.path))
else:
    host = LNbitsHost(Path(), in_schema(lnbits_settings.lnbits_database_url, db.schema))


def _attach_runtime(connection: HTTPConnection) -> None:
    host.attach(connection)


nostrbazaar_ext = APIRouter(prefix=f"/{EXT_ID}", tags=[EXT_ID])
nostrbazaar_ext.include_router(api_router, dependencies=[Depends(_attach_runtime)])
nostrbazaar_ext.include_router(pages_router, dependencies=[Depends(_attach_runtime)])

nostrbazaar_static_files = [{"path": f"/{EXT_ID}/static", "name": f"{EXT_ID}_static"}]


def nostrbazaar_start() -> None:
    """LNbits' start hook (called without awaiting): the runtime starts in an LNbits task."""
    host.start_soon()


async def nostrbazaar_stop() -> None:
    """LNbits' stop hook (deactivation, upgrade, uninstall): stop and close everything."""
    await host.stop()
