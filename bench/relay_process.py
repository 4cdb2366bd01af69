"""nostr-sdk's LocalRelay in a process of its own, loaded with a history of events, for
benchmarks whose peak memory and CPU time must be the merchant's alone (a relay
holding 100,000 events, and the loading of them, are not small).

`python -m bench.relay_process HISTORY.jsonl` starts the relay, publishes every event
of the file to it, prints `URL COUNT` on one line, then serves until its standard
input closes. `RelayProcess` starts and stops it from a benchmark.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.relay_pool import RelayPool

from .common import quiet_logs
from .end_to_end import BenchRelay


class RelayProcess:
    """`async with RelayProcess(history) as (url, loaded):` a loaded LocalRelay."""

    def __init__(self, history: Path) -> None:
        self.history = history
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> tuple[str, int]:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.relay_process", str(self.history),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 1800)
        if not line.startswith(b"ws://"):
            raise RuntimeError(f"the relay process did not start: {line!r}")
        url, loaded = line.decode().split()
        return url, int(loaded)

    async def __aexit__(self, *exc: object) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()


async def load_relay(url: str, history: Path, chunk: int = 5000, window: int = 200) -> int:
    """Publish every event until the relay accepted each one; how many it holds.

    nostr-sdk's LocalRelay drops a connection after some thousands of events in a
    burst; so each `chunk` goes over a connection of its own, `window` events at a
    time, and what failed is sent again, over new connections, until none is left."""
    with history.open() as lines:
        pending = [Event(**json.loads(line)) for line in lines]
    total = len(pending)
    for _ in range(50):
        failed: list[Event] = []
        for start in range(0, len(pending), chunk):
            failed += await _publish(url, pending[start : start + chunk], window)
        if not failed:
            return total
        pending = failed
    return total - len(pending)


async def _publish(url: str, events: list[Event], window: int) -> list[Event]:
    """Publish over a new connection; the events the relay did not accept."""
    pool = RelayPool([url], queue_size=100_000)
    await pool.start()
    try:
        failed: list[Event] = []
        for start in range(0, len(events), window):
            batch = events[start : start + window]
            results = await asyncio.gather(*(pool.publish(e, timeout=30) for e in batch))
            failed += [e for e, r in zip(batch, results, strict=True) if not _accepted(r)]
        return failed
    finally:
        await pool.close()


def _accepted(results: dict[str, Any]) -> bool:
    return any(r.ok or r.message.startswith("duplicate") for r in results.values())


async def _serve(history: Path) -> None:
    relay = BenchRelay()
    url = await relay.start()
    loaded = await load_relay(url, history)
    print(url, loaded, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it
    await relay.stop()


if __name__ == "__main__":
    quiet_logs()
    asyncio.run(_serve(Path(sys.argv[1])))
