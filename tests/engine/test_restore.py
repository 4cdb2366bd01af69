"""Invariant 4: restoring from the DM history into an empty database gives the same orders,
statuses, totals and stock as live processing did — in any order, however often."""

from __future__ import annotations

import asyncio
import atexit
import functools
import itertools
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nostrbazaar.engine.restore import batch as restore_batch
from nostrbazaar.engine.restore import restore_events
from nostrbazaar.nostr import nip04
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import (
    Customer,
    Shop,
    busy_shop,
    dm_history,
    make_shop,
    order_content,
    order_state,
)
from support.pg import DatabaseAt, new_schema

MERCHANT = PrivateKey.generate().hex
PUBKEY = PrivateKey.from_hex(MERCHANT).public_key


async def live_run(
    base: Path, database_url: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A busy day processed live; the history the relays would keep, and the result."""
    shop = await make_shop(
        base / "live", MERCHANT, wallet_in_database=False, database_url=database_url
    )
    try:
        await busy_shop(shop)
        return await dm_history(shop), await order_state(shop)
    finally:
        await shop.close()


async def restored(
    base: Path, name: str, history: list[dict[str, Any]], database_url: str | None
) -> tuple[Shop, Any]:
    """The history restored into an empty database (`database_url`, None: a new SQLite
    file), asking the live run's Lightning node (its wallet dir) about its invoices."""
    wallet_dir = base / "live" / "wallet"
    shop = await make_shop(
        base / name, MERCHANT, wallet_dir, wallet_in_database=False, database_url=database_url
    )
    await shop.product("p2", "50", 10)  # the same catalogue as the live shop started with
    await shop.product("last", "10", 1)
    summary = await restore_events(shop.deps, shop.merchant, history)
    return shop, summary


async def test_restore_into_an_empty_database_equals_the_live_state(
    tmp_path: Path, database_at: DatabaseAt
) -> None:
    history, live = await live_run(tmp_path, await database_at(tmp_path / "live"))
    random.Random(7).shuffle(history)
    fresh = await database_at(tmp_path / "restored")
    shop, summary = await restored(tmp_path, "restored", history, fresh)
    try:
        assert await order_state(shop) == live
        assert summary.orders_restored == len(live["orders"])
        assert summary.errors == 1  # the customer's forged status message, refused again
        assert "only the merchant" in summary.reasons[0]
        requests = [r for r in await shop.outbox() if '"type":1' in str(r)]
        assert requests == []  # answered orders get no second payment request
    finally:
        await shop.close()


async def test_restoring_twice_changes_nothing_the_second_time(
    tmp_path: Path, database_at: DatabaseAt
) -> None:
    history, live = await live_run(tmp_path, await database_at(tmp_path / "live"))
    fresh = await database_at(tmp_path / "restored")
    shop, _ = await restored(tmp_path, "restored", history, fresh)
    try:
        again = await restore_events(shop.deps, shop.merchant, list(reversed(history)))
        assert (again.events_new, again.orders_restored, again.orders_updated) == (0, 0, 0)
        assert await order_state(shop) == live
    finally:
        await shop.close()


@functools.cache
def _live(server: str | None) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    """One live run per engine shared by every example (built on first use, removed at
    exit); `server`: the session's PostgreSQL database, None for SQLite."""
    base = Path(tempfile.mkdtemp(prefix="restore-property-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    history, live = asyncio.run(live_run(base, _fresh(server)))
    return base, history, live


def _fresh(server: str | None) -> str | None:
    """An empty database: a new schema of `server`, or None (a new SQLite file)."""
    return None if server is None else asyncio.run(new_schema(server))


_RUNS = itertools.count()


# db_engine and request stay the same across the examples of one engine.
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_of_the_history_with_duplicates_restores_the_same_state(
    data: st.DataObject, db_engine: str, request: pytest.FixtureRequest
) -> None:
    server = None if db_engine == "sqlite" else str(request.getfixturevalue("pg_database"))
    base, history, live = _live(server)
    order = data.draw(st.permutations(range(len(history))), label="order")
    repeats = data.draw(st.lists(st.sampled_from(range(len(history))), max_size=8), label="again")
    events = [history[i] for i in order] + [history[i] for i in repeats]

    async def run() -> dict[str, Any]:
        fresh = None if server is None else await new_schema(server)
        shop, _ = await restored(base, f"r-{next(_RUNS)}", events, fresh)
        try:
            return await order_state(shop)
        finally:
            await shop.close()

    assert asyncio.run(run()) == live


async def test_an_earlier_reply_whose_invoice_cannot_be_read_gets_a_fresh_invoice(
    tmp_path: Path, database_url: str | None
) -> None:
    shop = await make_shop(tmp_path / "shop", MERCHANT, database_url=database_url)
    try:
        customer = Customer()
        order = customer.nip04(shop.merchant.public_key, order_content("o-1"))
        link = {"type": "ln", "link": "lnbc1garbage"}
        unreadable = json.dumps({"id": "o-1", "type": 1, "payment_options": [link]})
        key = shop.merchant.key
        content = nip04.encrypt(key, customer.pubkey, unreadable)
        reply = sign_event(key, 4, content, [["p", customer.pubkey]])
        await restore_events(shop.deps, shop.merchant, [reply.to_dict(), order])
        assert (await shop.order("o-1")).status == "awaiting_payment"
        [request] = await customer.inbox(shop, "o-1")
        assert request["payment_options"][0]["link"] == (await shop.order("o-1")).bolt11
    finally:
        await shop.close()


# A restore's first pass parks in bulk what only waits for its order
# (engine/restore/parking.py): the inbox verdicts, the conversation and the customers it
# leaves are those `ingest.process` leaves one event at a time.


async def _first_pass(shop: Any) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "inbox": "SELECT id, verdict, reason, order_id FROM inbox ORDER BY id",
        # what the restored shop sends itself is signed anew (a new id each time): no ids
        "messages": "SELECT merchant_id, public_key, direction, type, order_id, message,"
        " transport, read,"
        " created_at FROM direct_messages ORDER BY public_key, created_at, type, message",
        "customers": "SELECT merchant_id, public_key, unread, last_message_at FROM customers"
        " ORDER BY public_key",
    }
    return {name: [tuple(row) for row in await shop.db.fetchall(sql)]
            for name, sql in queries.items()}  # fmt: skip


async def test_parking_in_bulk_leaves_what_one_at_a_time_leaves(
    tmp_path: Path, database_at: DatabaseAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    history, _ = await live_run(tmp_path, await database_at(tmp_path / "live"))
    # one customer's orders never reached a relay: the merchant's replies to them stay parked
    lost = next(e["pubkey"] for e in history if e["kind"] == 4 and e["pubkey"] != PUBKEY)
    history = [e for e in history if e["pubkey"] != lost]
    bulk, summary = await restored(tmp_path, "bulk", history, await database_at(tmp_path / "b"))
    try:
        in_bulk = await _first_pass(bulk)
    finally:
        await bulk.close()
    assert summary.orders_restored > 0
    assert any(row[1] == "parked" for row in in_bulk["inbox"])

    async def nothing_in_bulk(deps: Any, merchant: Any, events: list[Any]) -> Any:
        return [], list(events)

    monkeypatch.setattr(restore_batch, "park_page", nothing_in_bulk)
    single, again = await restored(tmp_path, "single", history, await database_at(tmp_path / "s"))
    try:
        assert await _first_pass(single) == in_bulk
        assert (again.orders_restored, again.errors) == (summary.orders_restored, summary.errors)
    finally:
        await single.close()
