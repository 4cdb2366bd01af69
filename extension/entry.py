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
from starlette.requests import HTTPConnection

from ..views_api import api_router
from .auth import EXT_ID
from .host import LNbitsHost
from .pages import pages_router

db = Database(f"ext_{EXT_ID}")
# The file LNbits keeps the extension's data in (SQLite); on PostgreSQL there is none, and
# the migration says so (nostrbazaar runs on LNbits' SQLite only, for now).
host = LNbitsHost(Path(getattr(db, "path", "")))


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
