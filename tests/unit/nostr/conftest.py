"""Fixtures for the relay-pool tests: a key, the fake connector, pools built on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import RelayPool
from support.bindings import libsecp_binding  # noqa: F401 - every test here runs on both
from support.fake_relay_sockets import FAST, Connector


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def connector() -> Connector:
    return Connector()


@pytest.fixture
async def pools(connector: Connector) -> AsyncIterator[Callable[..., RelayPool]]:
    """Build pools on the fake connector (started by the test); all closed afterwards."""
    made: list[RelayPool] = []

    def make(urls: list[str], **options: Any) -> RelayPool:
        pool = RelayPool(urls, connect=connector, **{**FAST, **options})
        made.append(pool)
        return pool

    yield make
    for pool in made:
        await pool.close()
