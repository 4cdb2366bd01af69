"""Shared fixtures: paths to the shared vectors and a fresh app on a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from support import pg

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
VECTORS = SHARED / "vectors"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults on a fresh data directory (an embedded relay starts)."""
    return Settings(data_dir=tmp_path / "data", secret="test-secret")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client speaking ASGI to a fully started app."""
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (dropped at its end); the
    tests that need it skip, with the reason, where PostgreSQL is not installed."""
    problem = pg.server_problem()
    if problem is not None:
        pytest.skip(problem)
    url = pg.create_database()
    yield url
    pg.drop_database(url)


ENGINES = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `sqlite_only` (its faults are injected through SQLite's file or
    locks) keeps only its SQLite variant."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("db_engine") if callspec else None
        only = item.get_closest_marker("sqlite_only") is not None
        (dropped if only and engine == "postgresql" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
async def database_url(db_engine: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the data dir's file), or a fresh PostgreSQL schema's URL: a test
    using it runs once per engine."""
    if db_engine == "sqlite":
        return None
    return await pg.new_schema(request.getfixturevalue("pg_database"))


@pytest.fixture
def database_at(db_engine: str, request: pytest.FixtureRequest) -> pg.DatabaseAt:
    """The database of a data dir on this test's engine: None (the dir's SQLite file) or a
    fresh PostgreSQL schema's URL, the same URL for the same dir (a restart reopens it). A
    test that opens several shops (live, then restored into an empty database) uses it."""
    server = None if db_engine == "sqlite" else str(request.getfixturevalue("pg_database"))
    urls: dict[Path, str | None] = {}

    async def at(data_dir: Path) -> str | None:
        if data_dir not in urls:
            urls[data_dir] = None if server is None else await pg.new_schema(server)
        return urls[data_dir]

    return at


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """The storage engine a test runs on: each test using it runs once per engine."""
    return str(request.param)
