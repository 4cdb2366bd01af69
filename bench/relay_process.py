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


async def load_relay(pool: RelayPool, history: Path, window: int = 500) -> int:
    """Publish every event, `window` at a time, until the relay accepted each one.

    nostr-sdk's LocalRelay drops the connection now and then under a sustained
    burst (after some thousands of events); what failed is sent again once the
    pool has reconnected. Returns how many events the relay holds."""
    with history.open() as lines:
        pending = [Event(**json.loads(line)) for line in lines]
    total = len(pending)
    for _ in range(50):
        failed: list[Event] = []
        for start in range(0, len(pending), window):
            batch = pending[start : start + window]
            results = await asyncio.gather(*(pool.publish(e, timeout=30) for e in batch))
            failed += [e for e, r in zip(batch, results, strict=True) if not _accepted(r)]
        if not failed:
            return total
        pending = failed
        await asyncio.sleep(1.0)  # the pool reconnects with backoff
    return total - len(pending)


def _accepted(results: dict[str, Any]) -> bool:
    return any(r.ok or r.message.startswith("duplicate") for r in results.values())


async def _serve(history: Path) -> None:
    relay = BenchRelay()
    url = await relay.start()
    pool = RelayPool([url], queue_size=100_000)
    await pool.start()
    try:
        loaded = await load_relay(pool, history)
    finally:
        await pool.close()
    print(url, loaded, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it
    await relay.stop()


if __name__ == "__main__":
    quiet_logs()
    asyncio.run(_serve(Path(sys.argv[1])))
