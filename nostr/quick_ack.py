"""A websockets client connection that acknowledges every TCP read at once.

Why: a relay that leaves Nagle's algorithm on (nostr-sdk's `LocalRelay` does, as
many servers do) sends one small frame (an OK) and then holds the next one (the
echo of our event, the next customer's order) until that frame is acknowledged.
Linux delays the acknowledgement by up to 40 ms when the connection looks
interactive, which ours does (we answer what we read), so every second frame
from the relay could wait 40 ms for nothing. Re-arming `TCP_QUICKACK` on each
read sends the pending ACK immediately: one cheap `setsockopt` per read.
Where the option does not exist (not Linux) the connection behaves as usual.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def ack_now(sock: Any) -> bool:
    """Send the pending ACK on `sock` now; False where quick ACKs are unavailable."""
    if _QUICKACK is None or sock is None:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    except OSError:  # not TCP (a Unix socket in a test), or already closed
        return False
    return True


class QuickAckConnection(ClientConnection):
    """`ClientConnection` that re-arms `TCP_QUICKACK` before handling each read."""

    _sock: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if ack_now(sock):
            self._sock = sock

    def data_received(self, data: bytes) -> None:
        if self._sock is not None:
            ack_now(self._sock)
        super().data_received(data)
