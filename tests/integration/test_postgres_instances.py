"""PostgreSQL as the shared store of several instances: configuration, start-up, an
empty data directory on a second instance, the dashboard stream across instances."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import ConfigError, Settings
from nostrbazaar.engine.runtime import Runtime
from support import pg

SECRET = "shared-instances-secret"


def test_a_database_url_without_a_secret_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="NOSTRBAZAAR_SECRET: required when"):
        Settings.from_env({"NOSTRBAZAAR_DATABASE_URL": "postgresql://nb@db.example/nb"})


@pytest.mark.parametrize("url", ["mysql://db.example/nb", "postgresql://db.example:port/nb"])
def test_a_database_url_that_is_not_postgresql_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="NOSTRBAZAAR_DATABASE_URL"):
        Settings.from_env({"NOSTRBAZAAR_DATABASE_URL": url, "NOSTRBAZAAR_SECRET": "s"})


def test_an_unreachable_server_stops_serve_with_one_line_naming_the_variable(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "NOSTRBAZAAR_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        "NOSTRBAZAAR_SECRET": SECRET,
        "NOSTRBAZAAR_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nostrbazaar.cli", "serve"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "NOSTRBAZAAR_DATABASE_URL" in lines[0], done.stderr
    assert "127.0.0.1:1" in lines[0]


@pytest.fixture
async def schema_url(pg_database: str) -> str:
    return await pg.new_schema(pg_database)


@asynccontextmanager
async def instance(url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """One nostrbazaar process's app on the shared database (no background engine)."""
    app = create_app(Settings(data_dir=data_dir, secret=SECRET, database_url=url))
    app.state.runtime.background = False
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


def runtime_of(client: httpx.AsyncClient) -> Runtime:
    return client.runtime  # type: ignore[attr-defined, no-any-return]


async def test_a_second_instance_with_an_empty_data_dir_serves_the_same_shop(
    schema_url: str, tmp_path: Path
) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    async with instance(schema_url, first_dir) as first:
        account = (await first.post("/api/v1/account", json={"name": "Ann"})).json()
        admin = {"X-Api-Key": account["adminkey"]}
        made = await first.post("/api/v1/merchant", json={"config": {"name": "Ann"}}, headers=admin)
        assert made.status_code == 200, made.text
        async with instance(schema_url, second_dir) as second:
            seen = await second.get("/api/v1/merchant", headers=admin)
            assert seen.status_code == 200, seen.text
            assert seen.json()["public_key"] == made.json()["public_key"]
            storage = (await second.get("/api/v1/health")).json()["storage"]
            assert storage["engine"] == "postgresql" and storage["version"].startswith("15")
            assert storage["instance"] != runtime_of(first).instance_id
    for data_dir in (first_dir, second_dir):
        assert not data_dir.exists() or not any(data_dir.iterdir()), list(data_dir.iterdir())


async def test_a_dashboard_on_one_instance_hears_what_another_did_for_its_merchant_only(
    schema_url: str, tmp_path: Path
) -> None:
    async with (
        instance(schema_url, tmp_path / "a") as first,
        instance(schema_url, tmp_path / "b") as second,
    ):
        bus = runtime_of(second).bus
        async with bus.subscribe("m-1") as mine, bus.subscribe("m-2") as other:
            runtime_of(first).bus.publish("m-1", "order", {"id": "o-1", "status": "paid"})
            runtime_of(first).bus.publish("m-1", "status", {"id": "o-1", "status": "shipped"})
            got = [await asyncio.wait_for(mine.get(), 10) for _ in range(2)]
            assert [(n.kind, n.data["status"]) for n in got] == [
                ("order", "paid"), ("status", "shipped"),
            ]  # fmt: skip
            assert other.empty() and mine.empty()  # nothing for m-2; our own not echoed
