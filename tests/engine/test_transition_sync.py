"""Invariant 5 across releases: the table the trigger consults always equals the code."""

from __future__ import annotations

from pathlib import Path

from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.orders.machine import TRANSITIONS


async def _stored_transitions(runtime: Runtime) -> set[tuple[str, str]]:
    rows = await runtime.db.fetchall("SELECT from_status, to_status FROM order_transitions")
    return {(row[0], row[1]) for row in rows}


async def test_a_stale_transition_table_is_rewritten_from_orders_py_at_start_up(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = Settings(data_dir=tmp_path, secret="s", database_url=database_url)
    first = Runtime(settings, background=False)
    await first.start()
    async with first.db.transaction() as conn:
        await conn.execute("DELETE FROM order_transitions WHERE from_status = 'paid'")
        await conn.execute("INSERT INTO order_transitions VALUES ('awaiting_payment', 'completed')")
    await first.stop()

    second = Runtime(settings, background=False)
    await second.start()
    try:
        assert await _stored_transitions(second) == {(str(a), str(b)) for a, b in TRANSITIONS}
    finally:
        await second.stop()
