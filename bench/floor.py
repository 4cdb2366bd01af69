"""The protocol floor of this run: the CPU one order's cryptography needs, on this machine,
now (`python -m bench.floor --out FILE`; `python -m bench` runs it first).

Ingest and restore figures are reported as multiples of it (issue 21), so a figure
measured on a busy or slow machine is still comparable:
- a NIP-04 order: verify + decrypt (customer's shared key cached) + sign and encrypt
  the reply;
- a NIP-17 (or Gamma) order: open the gift wrap of a returning customer (verify the
  wrap, unwrap, verify the seal) + the reply's two gift wraps;
- a restored event: verify.
Each operation is timed over the same inputs `bench/protocol.py` uses (CPU time of
this process, median of five passes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nostrbazaar.nostr import nip04, nip17
from nostrbazaar.nostr.event import parse_event, sign_event
from nostrbazaar.nostr.keys import PrivateKey

from .protocol import ORDER

CUSTOMERS = 400
PASSES = 5


def _cpu_us(work: Callable[[Any], object], inputs: Sequence[Any]) -> float:
    """Median CPU microseconds per call over `PASSES` passes."""
    samples = []
    for _ in range(PASSES):
        start = time.process_time()
        for item in inputs:
            work(item)
        samples.append((time.process_time() - start) / len(inputs) * 1e6)
    return statistics.median(samples)


def measure() -> dict[str, float]:
    merchant = PrivateKey.generate()
    customers = [PrivateKey.generate() for _ in range(CUSTOMERS)]
    orders = [sign_event(k, 4, nip04.encrypt(k, merchant.public_key, ORDER),
                         [["p", merchant.public_key]]).to_json() for k in customers]  # fmt: skip
    events = [parse_event(raw) for raw in orders]
    for event in events:  # returning customers: the shared keys are known
        nip04.decrypt(merchant, event.pubkey, event.content)
    wraps = [nip17.chat_message(k, merchant.public_key, ORDER)[1][0].to_json() for k in customers]
    for raw in wraps:
        nip17.receive(merchant, parse_event(raw))
    pubkey = merchant.public_key
    figures = {
        "verify_us": _cpu_us(parse_event, orders),
        "nip04_decrypt_us": _cpu_us(lambda e: nip04.decrypt(merchant, e.pubkey, e.content), events),
        "sign_us": _cpu_us(lambda k: sign_event(merchant, 4, ORDER, [["p", pubkey]]), customers),
        "nip04_encrypt_us": _cpu_us(lambda k: nip04.encrypt(merchant, k.public_key, ORDER),
                                    customers),
        "unwrap_us": _cpu_us(lambda raw: nip17.receive(merchant, parse_event(raw)), wraps),
        "nip17_reply_us": _cpu_us(lambda k: nip17.chat_message(merchant, k.public_key, ORDER),
                                  customers),
    }  # fmt: skip
    floors = {
        "nip04_order_us": figures["verify_us"] + figures["nip04_decrypt_us"]
        + figures["sign_us"] + figures["nip04_encrypt_us"],
        "nip17_order_us": figures["unwrap_us"] + figures["nip17_reply_us"],
        "restored_event_us": figures["verify_us"],
    }  # fmt: skip
    return {key: round(value, 1) for key, value in {**figures, **floors}.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = measure()
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
