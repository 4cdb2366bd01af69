"""The pool's websocket connections acknowledge each read at once (`nostr/quick_ack.py`).

A relay that leaves Nagle's algorithm on holds its next frame until the previous
one is acknowledged; a delayed ACK made that up to 40 ms per frame. These tests
check the mechanism is in place on real sockets; the latency it saves is measured
by `bench/end_to_end.py --trace`, not asserted here.
"""

from __future__ import annotations

import socket

import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.quick_ack import QuickAckConnection, ack_now
from nostrbazaar.nostr.relay import CONNECT_OPTIONS
from nostrbazaar.nostr.relay_pool import RelayPool

LINUX_QUICKACK = hasattr(socket, "TCP_QUICKACK")


@pytest.mark.skipif(not LINUX_QUICKACK, reason="TCP_QUICKACK is Linux only")
def test_a_tcp_socket_can_be_told_to_acknowledge_now() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            assert ack_now(client) is True


def test_a_socket_that_is_not_tcp_is_left_alone() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        assert ack_now(left) is False
    assert ack_now(None) is False


def test_every_relay_connection_is_made_with_quick_acks() -> None:
    assert CONNECT_OPTIONS["create_connection"] is QuickAckConnection


@pytest.mark.skipif(not LINUX_QUICKACK, reason="TCP_QUICKACK is Linux only")
async def test_the_pool_connection_to_a_real_relay_re_arms_quick_acks_and_still_works() -> None:
    relay = EmbeddedRelay()
    await relay.start()
    pool = RelayPool([relay.url], backoff_base=0.02, backoff_max=0.1)
    try:
        await pool.start()
        connection = pool._relays[relay.url]
        assert await connection.wait_connected(5)
        ws = connection._ws
        assert isinstance(ws, QuickAckConnection)
        assert ws._sock is not None  # the TCP socket it re-arms on each read
        results = await pool.publish(sign_event(PrivateKey.generate(), 1, "hi"), timeout=5)
        assert results[relay.url].ok  # the OK came back through `data_received`
    finally:
        await pool.close()
        await relay.stop()
