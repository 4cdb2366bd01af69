"""Counting the SQL a benchmark sends (`bench.ingest --count-sql`); for profiling only."""

from __future__ import annotations

from collections import Counter
from typing import Any

from nostrbazaar.storage.database import SqliteDatabase


class SqlCounter:
    """Counts aiosqlite thread round trips of the reader (every execute, fetch, cursor
    close is one; the writer runs in place and has none) and the SQL statements sent,
    by statement; for profiling, not for timed runs."""

    def __init__(self) -> None:
        self.round_trips: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.executed: Counter[str] = Counter()  # every statement SQLite ran (trace callback)
        self._original: Any = None

    async def trace(self, db: SqliteDatabase) -> None:
        """Also count every statement SQLite executes on `db`'s connections, batched
        ones included (`set_trace_callback`; triggers show up as comments, skipped)."""

        def seen(sql: str) -> None:
            if not sql.lstrip().startswith("--"):
                self.executed[" ".join(sql.split())[:60]] += 1

        if db._writer is not None:
            db._writer.raw.set_trace_callback(seen)  # runs in place: no round trips
        if db._reader is not None:
            await db._reader.set_trace_callback(seen)

    def __enter__(self) -> SqlCounter:
        import aiosqlite

        self._original = original = aiosqlite.Connection._execute
        counter = self

        async def counted(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            name = getattr(fn, "__name__", repr(fn))
            counter.round_trips[name] += 1
            if name in ("execute", "executemany") and args and isinstance(args[0], str):
                counter.statements[" ".join(args[0].split())[:90]] += 1
            return await original(conn, fn, *args, **kwargs)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        import aiosqlite

        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]

    def per(self, count: int) -> dict[str, Any]:
        executed = {k: round(v / count, 2) for k, v in self.executed.most_common(40)}
        return {
            "statements_executed_per_order": round(sum(self.executed.values()) / count, 2),
            "executed": executed,
            "round_trips_per_order": round(sum(self.round_trips.values()) / count, 2),
            "round_trips_by_kind": {k: round(v / count, 2) for k, v in self.round_trips.items()},
            "statements_per_order": round(sum(self.statements.values()) / count, 2),
            "statements": {k: round(v / count, 2) for k, v in self.statements.most_common(40)},
        }
