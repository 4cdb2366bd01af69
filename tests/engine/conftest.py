"""Order-engine test fixtures: a shop on a real database with the real FakeWallet.

The `shop` runs each test twice: on a SQLite file and on a fresh PostgreSQL
schema (`database_url`, parametrised by `db_engine` in tests/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from loguru import logger

_TESTS = str(Path(__file__).resolve().parent.parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.orders_fixtures import Customer, Shop, make_shop  # noqa: E402

# The suites that hold the invariants run on both engines through `shop`; these files
# test message shapes, wallet faults and pre-sealing, which no engine changes: SQLite
# only, so PostgreSQL adds its time where it can change an outcome.
SQLITE_ONLY_FILES = {"test_preseal.py", "test_faults_wallet.py", "test_order_ids.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SQLITE_ONLY_FILES and item.path.parent.name == "engine":
            item.add_marker(pytest.mark.sqlite_only)


@pytest.fixture
async def shop(tmp_path: Path, database_url: str | None) -> AsyncIterator[Shop]:
    """The shop, once on SQLite and once on PostgreSQL (`db_engine`)."""
    opened = await make_shop(tmp_path / "shop", database_url=database_url)
    yield opened
    await opened.close()


@pytest.fixture
def customer() -> Customer:
    return Customer()


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """Every loguru message at WARNING or above logged during the test."""
    messages: list[str] = []
    sink = logger.add(lambda message: messages.append(str(message)), level="WARNING")
    yield messages
    logger.remove(sink)
