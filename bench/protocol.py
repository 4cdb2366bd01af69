"""Protocol hot paths on one core: run `.venv/bin/python bench/protocol.py` (a few seconds).

Prints operations per second and CPU microseconds per call (process_time) for
what ingest does to each incoming message: verify an event, decrypt NIP-04 (first
contact and returning customer), decrypt NIP-44, and open a NIP-17 gift wrap
(verify the wrap, two ECDHs, two decrypts, verify the seal); and for what the
reply costs: sign, NIP-04 encrypt, and a NIP-17 message (two gift wraps). Inputs
are built first and not timed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from nostrbazaar.nostr import keys, nip04, nip17, nip44
from nostrbazaar.nostr.event import parse_event, sign_event
from nostrbazaar.nostr.keys import PrivateKey

N = 2000
ORDER = json.dumps(
    {
        "type": 0,
        "id": "4f1c7e0e-6a6b-4a51-9d1e-7d1f2b3c4d5e",
        "name": "Ada Lovelace",
        "address": "12 Analytical Engine Street, London",
        "message": "Please gift wrap it",
        "contact": {"nostr": "ab" * 32, "phone": "", "email": "ada@example.com"},
        "items": [{"product_id": "prod-1", "quantity": 2}, {"product_id": "prod-7", "quantity": 1}],
        "shipping_id": "zone-eu",
    }
)


def _rate(label: str, work: Callable[[Any], object], inputs: Sequence[Any]) -> float:
    """Run `work` over every input once and print the rate."""
    start, cpu = time.perf_counter(), time.process_time()
    for item in inputs:
        work(item)
    per_second = len(inputs) / (time.perf_counter() - start)
    cpu_us = (time.process_time() - cpu) / len(inputs) * 1e6
    print(f"{label:<58} {per_second:>10,.0f} /s {cpu_us:>8.1f} us CPU")
    return per_second


def _clear_caches() -> None:
    """Forget ECDH results and conversation keys, as for customers never seen before."""
    keys._shared_x.cache_clear()
    keys._even_point.cache_clear()
    nip44._cached_conversation_key.cache_clear()


def bench_events(customers: list[PrivateKey]) -> None:
    """Parse and verify signed events from their wire JSON."""
    wire = [sign_event(k, 4, ORDER, [["p", "ab" * 32]]).to_json() for k in customers]
    _rate("events verified (JSON -> id + BIP-340 check)", parse_event, wire)


def bench_nip04(merchant: PrivateKey, customers: list[PrivateKey]) -> None:
    """Decrypt orders from many new customers, then from one returning customer."""
    fresh = [(k.public_key, nip04.encrypt(k, merchant.public_key, ORDER)) for k in customers]
    _clear_caches()
    _rate("NIP-04 decrypts, new customer each time (ECDH + AES)", _nip04(merchant), fresh)
    regular = customers[0]
    again = [(regular.public_key, nip04.encrypt(regular, merchant.public_key, ORDER))] * N
    _rate("NIP-04 decrypts, returning customer (cached shared key)", _nip04(merchant), again)


def _nip04(merchant: PrivateKey) -> Callable[[tuple[str, str]], str]:
    """One NIP-04 decrypt by the merchant of (sender pubkey, content)."""
    return lambda item: nip04.decrypt(merchant, item[0], item[1])


def bench_nip44(merchant: PrivateKey, customers: list[PrivateKey]) -> None:
    """Decrypt NIP-44 payloads, with and without the conversation key in cache."""
    pairs = [
        (k.public_key, nip44.encrypt(ORDER, nip44.conversation_key(k, merchant.public_key)))
        for k in customers
    ]
    _clear_caches()
    _rate("NIP-44 decrypts, new customer each time (ECDH + HKDF)", _nip44(merchant), pairs)
    _rate("NIP-44 decrypts, conversation key cached", _nip44(merchant), pairs)


def _nip44(merchant: PrivateKey) -> Callable[[tuple[str, str]], str]:
    """One NIP-44 decrypt by the merchant of (sender pubkey, payload)."""
    return lambda item: nip44.decrypt(item[1], nip44.conversation_key(merchant, item[0]))


def bench_gift_wraps(merchant: PrivateKey, customers: list[PrivateKey]) -> None:
    """Open NIP-17 wraps: always a fresh ECDH for the wrap, the seal's cached if known."""
    wire = [
        nip17.chat_message(k, merchant.public_key, ORDER)[1][0].to_json()
        for k in customers[: N // 2]
    ]
    _clear_caches()
    _rate("gift wraps unwrapped, new customers (verify wrap + unwrap)", _open(merchant), wire)
    again = [
        nip17.chat_message(k, merchant.public_key, ORDER)[1][0].to_json()
        for k in customers[: N // 2]
    ]
    _rate("gift wraps unwrapped, returning customers", _open(merchant), again)


def _open(merchant: PrivateKey) -> Callable[[str], object]:
    """What ingest does with a kind 1059 from the wire."""
    return lambda raw: nip17.receive(merchant, parse_event(raw))


def bench_replies(merchant: PrivateKey, customers: list[PrivateKey]) -> None:
    """What answering each order costs: a signed NIP-04 reply, or a NIP-17 message."""
    _rate("replies signed (kind 4, id + BIP-340 sign)", _signed(merchant), customers)
    for k in customers:  # each order was just decrypted, so its shared key is cached
        merchant.ecdh_x(k.public_key)
    _rate("NIP-04 encrypts, known customer (cached shared key)", _encrypted(merchant), customers)
    _rate(
        "NIP-17 replies (2 gift wraps: seal + ephemeral key each)",
        lambda k: nip17.chat_message(merchant, k.public_key, ORDER),
        customers[: N // 2],
    )


def _signed(merchant: PrivateKey) -> Callable[[PrivateKey], object]:
    return lambda k: sign_event(merchant, 4, ORDER, [["p", k.public_key]])


def _encrypted(merchant: PrivateKey) -> Callable[[PrivateKey], str]:
    return lambda k: nip04.encrypt(merchant, k.public_key, ORDER)


def main() -> None:
    """Pin to one core, build inputs, time each path."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    merchant = PrivateKey.generate()
    customers = [PrivateKey.generate() for _ in range(N)]
    print(f"nostrbazaar protocol benchmark: {N} messages a row, one core, {len(ORDER)}-byte order")
    bench_events(customers)
    bench_nip04(merchant, customers)
    bench_nip44(merchant, customers)
    bench_gift_wraps(merchant, customers)
    bench_replies(merchant, customers)


if __name__ == "__main__":
    main()
