"""`RelayPool.fetch`: an answer is what the relay sent before EOSE (a live event after it,
dated anywhere, would make a pager skip stored ones), and `complete=True` raises
`FetchIncomplete` rather than return part of an answer: a relay that closes the query,
never sends EOSE, or is not connected. Scripted relays on 127.0.0.1, stopped here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import FetchIncomplete, RelayPool
from support.fake_relay import FakeRelay, ReqScript, Session

KEY = PrivateKey.generate()
STORED = sign_event(KEY, 1, "stored", created_at=1_700_000_100)
LIVE = sign_event(KEY, 1, "live, dated long ago", created_at=1_700_000_000)
QUERY = [{"kinds": [1], "authors": [KEY.public_key]}]


async def stored_then_live(session: Session, sub_id: str, filters: list[dict[str, Any]]) -> None:
    await session.send(["EVENT", sub_id, STORED.to_dict()])
    await session.send(["EOSE", sub_id])
    await session.send(["EVENT", sub_id, LIVE.to_dict()])  # a new event, after EOSE


async def closes(session: Session, sub_id: str, filters: list[dict[str, Any]]) -> None:
    await session.send(["EVENT", sub_id, STORED.to_dict()])
    await session.send(["CLOSED", sub_id, "error: too many subscriptions"])


async def never_ends(session: Session, sub_id: str, filters: list[dict[str, Any]]) -> None:
    await session.send(["EVENT", sub_id, STORED.to_dict()])


PoolOn = Callable[[ReqScript | None], Awaitable[RelayPool]]


@pytest.fixture
async def pool_on() -> AsyncIterator[PoolOn]:
    """A started pool on a scripted relay, connected; both are closed after the test."""
    made: list[tuple[FakeRelay, RelayPool]] = []

    async def make(script: ReqScript | None) -> RelayPool:
        relay = FakeRelay(on_req=script)
        await relay.start()
        pool = RelayPool([relay.url], backoff_base=0.02, backoff_max=0.1)
        made.append((relay, pool))
        await pool.start()
        for _ in range(500):  # bounded: until connected
            if pool.status()[relay.url] == "connected":
                break
            await asyncio.sleep(0.01)
        return pool

    yield make
    for relay, pool in made:
        await pool.close()
        await relay.stop()


async def test_an_event_sent_after_eose_is_not_part_of_the_answer(pool_on: PoolOn) -> None:
    pool = await pool_on(stored_then_live)
    assert [event.id for event in await pool.fetch(QUERY, timeout=5)] == [STORED.id]
    assert [event.id for event in await pool.fetch(QUERY, timeout=5, complete=True)] == [STORED.id]


async def test_a_complete_fetch_raises_when_the_relay_closes_the_query(pool_on: PoolOn) -> None:
    pool = await pool_on(closes)
    assert [event.id for event in await pool.fetch(QUERY, timeout=5)] == [STORED.id]
    with pytest.raises(FetchIncomplete, match="closed: error: too many subscriptions"):
        await pool.fetch(QUERY, timeout=5, complete=True)


async def test_a_complete_fetch_raises_when_eose_never_comes(pool_on: PoolOn) -> None:
    pool = await pool_on(never_ends)
    assert [event.id for event in await pool.fetch(QUERY, timeout=0.3)] == [STORED.id]
    with pytest.raises(FetchIncomplete, match="timed out before EOSE"):
        await pool.fetch(QUERY, timeout=0.3, complete=True)


async def test_a_complete_fetch_raises_for_a_relay_that_is_not_connected() -> None:
    url = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    pool = RelayPool([url], backoff_base=0.02, backoff_max=0.1)
    await pool.start()
    try:
        assert await pool.fetch(QUERY, timeout=0.3) == []
        with pytest.raises(FetchIncomplete, match="not connected"):
            await pool.fetch(QUERY, timeout=0.3, complete=True)
    finally:
        await pool.close()
