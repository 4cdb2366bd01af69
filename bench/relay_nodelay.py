"""`bench/end_to_end.py --relay-nodelay`: the in-process LocalRelay's sockets with
TCP_NODELAY, to measure what Nagle's algorithm on the relay costs the customer.

nostr-sdk's LocalRelay leaves Nagle on. It sends the customer the OK for its order,
then holds the merchant's payment request until that OK is acknowledged, and a
client that does not acknowledge at once (the customer's nostr-sdk, a delayed ACK)
makes it wait up to 40 ms, bounded in practice by the customer's next send. The
merchant cannot change that (its own connection acknowledges every read at once:
`nostr/quick_ack.py`); the relay can, and many relays do. The relay runs in this
process, so its accepted sockets are file descriptors here: this sets the option on
each one that listens on the relay's port, as it appears. Linux only (/proc).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

_FDS = Path("/proc/self/fd")


def set_nodelay_on_port(port: int, done: set[str]) -> int:
    """TCP_NODELAY on every TCP socket of this process bound to local `port`, except
    those in `done` (socket inodes, updated); how many were newly set."""
    count = 0
    for entry in _FDS.iterdir():
        with contextlib.suppress(OSError):  # a descriptor closed while we looked
            inode = os.readlink(entry)
            if inode in done or not inode.startswith("socket:"):
                continue
            with socket.socket(fileno=os.dup(int(entry.name))) as sock:
                tcp = sock.family in (socket.AF_INET, socket.AF_INET6)
                if not tcp or sock.type != socket.SOCK_STREAM or sock.getsockname()[1] != port:
                    continue
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done.add(inode)
                count += 1
    return count


async def keep_nodelay(port: int, every: float = 0.05) -> None:
    """Until cancelled: set TCP_NODELAY on the relay's new connections as they come."""
    done: set[str] = set()
    while True:
        set_nodelay_on_port(port, done)
        await asyncio.sleep(every)
