"""Which relays a restore can read, and the error when it can read none.

A restore that pages relays it cannot reach finds nothing and would report
"0 events": as if the merchant had no history. So before paging, the relays
connected now are the ones read (waiting up to `CONNECT_WAIT` seconds for a first
one, as a restore may start while the pool is still connecting); if none is,
`NoRelayRead` names each relay and its state, and the restore job fails with that.
The summary says which relays were read, and why the others were not (down, or
disconnected before the restore ended: their part may be missing).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .history import Fetcher

CONNECT_WAIT = 5.0  # seconds a restore waits for a first relay to be connected
_POLL = 0.1


class NoRelayRead(RuntimeError):
    """No relay could be read: the restore would have found nothing, and says so."""


@dataclass
class Reach:
    """The relays a restore reads, and the others with the reason they are not read."""

    read: list[str]
    unread: dict[str, str] = field(default_factory=dict)

    def recheck(self, pool: Fetcher) -> None:
        """After paging: a relay read that is no longer connected may have been cut short."""
        status = pool.status()
        for url in list(self.read):
            if status.get(url) != "connected":
                self.read.remove(url)
                self.unread[url] = f"disconnected during the restore ({status.get(url)})"


async def reachable(pool: Fetcher, wait: float | None = None) -> Reach:
    """The relays connected now (waiting up to `wait` s for one); `NoRelayRead` if none."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (CONNECT_WAIT if wait is None else wait)
    status = pool.status()
    while not _connected(status) and loop.time() < deadline:
        await asyncio.sleep(_POLL)
        status = pool.status()
    unread = {url: state for url, state in status.items() if state != "connected"}
    if not _connected(status):
        states = "; ".join(f"{url}: {state}" for url, state in sorted(unread.items()))
        raise NoRelayRead(f"no relay could be read ({states or 'no relays configured'})")
    return Reach(_connected(status), unread)


def _connected(status: dict[str, str]) -> list[str]:
    return [url for url, state in status.items() if state == "connected"]
