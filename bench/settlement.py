"""Settlement to the customer's `paid` DM, per wallet backend, through a running Runtime.

Run: `.venv/bin/python -m bench.settlement [--count N] [--backends fake lnbits nwc]`.

For each backend: a full `Runtime` (relay pool, order engine, outbox publisher,
settlement consumer) on a temporary data directory, a LocalRelay on 127.0.0.1, and
one customer (a nostr-sdk Client on that relay). N times: the customer sends a NIP-04
order, waits for the type 1 payment request on the relay, pays its invoice, and the
figure is the time from the settlement to the merchant's type 2 `paid: true` DM
arriving at the customer's subscription (the relay copy: what the customer sees).

The settlement instant, per backend:
- fake: `runtime.wallet.pay(bolt11)` returns;
- lnbits (a real LNbits 1.6.2, tests/support/lnbits_server.py): LNbits answers the
  payer wallet's `POST /api/v1/payments` (an internal payment, settled at once);
- nwc (tests/support/nwc_service.py on the same relay): the wallet service's own
  ledger marks the invoice paid, before it publishes its `payment_received`
  notification (so the notification's trip through the relay is in the figure).
`from_pay_call_*` is also reported: from just before the payer starts paying.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nostr_sdk
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr import nip04
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.tests.support.lnbits_server import LNbitsServer
from nostrbazaar.tests.support.nwc_service import NWCService
from nostrbazaar.wallets.lnbits import LNbitsWallet
from nostrbazaar.wallets.nwc import NWCWallet

from .common import (
    bench_settings,
    customer_key,
    fill_shop,
    git_commit,
    machine,
    now_iso,
    order_content,
    quiet_logs,
)
from .wallets import BenchRelay

BACKENDS = ("fake", "lnbits", "nwc")
WAIT = 60.0  # seconds for one reply before the run is called failed

# The engine's intervals that bound this latency (read from the code, reported as is).
INTERVALS = {
    "outbox_publisher_idle_poll_s": 0.05,  # publisher.Publisher(idle=0.05); nothing pokes it
    "outbox_publish_timeout_s": 5.0,
    "settlement_stream_reopen_s": 1.0,  # OrderEngine._settlements after a stream failure
    "expiry_sweeper_s": 5.0,  # OrderEngine(sweep_every=5.0)
    "lnbits_poll_s_websocket_down": 5.0,  # LNbitsWallet(poll_interval=5.0)
    "lnbits_poll_s_websocket_up": 30.0,  # x6 while the websocket is up
    "nwc_poll_s_no_notifications": 10.0,  # NWCWallet(poll_interval=10.0)
    "nwc_poll_s_notifications": 60.0,  # x6 when the service sends notifications
}


@dataclass
class Backend:
    """A wallet backend as the Runtime sees it, and how a Lightning payer pays it.

    `pay(bolt11)` returns the perf_counter instant at which the payment settled."""

    name: str
    settings: dict[str, Any]
    pay: Callable[[Any, str], Awaitable[float]]


@asynccontextmanager
async def backend(name: str, relay_url: str, tmp: Path) -> AsyncIterator[Backend]:
    if name == "fake":

        async def pay_fake(runtime: Any, bolt11: str) -> float:
            await runtime.wallet.pay(bolt11)
            return time.perf_counter()

        yield Backend("fake", {"wallet": "fake"}, pay_fake)
    elif name == "lnbits":
        server = LNbitsServer(tmp / "lnbits")
        await asyncio.to_thread(server.start)
        try:
            assert server.merchant is not None

            def pay_blocking(bolt11: str) -> float:
                server.pay(bolt11)
                return time.perf_counter()

            async def pay_lnbits(_runtime: Any, bolt11: str) -> float:
                return await asyncio.to_thread(pay_blocking, bolt11)

            settings = {
                "wallet": "lnbits",
                "lnbits_url": server.url,
                "lnbits_invoice_key": server.merchant.inkey,
            }
            yield Backend("lnbits", settings, pay_lnbits)
        finally:
            await asyncio.to_thread(server.stop)
    elif name == "nwc":
        service = NWCService([relay_url], tmp / "nwc-service")
        await service.start()
        settled: list[float] = []
        ledger_pay = service.wallet.pay

        async def recording_pay(bolt11: str) -> Any:
            result = await ledger_pay(bolt11)
            settled.append(time.perf_counter())
            return result

        service.wallet.pay = recording_pay  # type: ignore[method-assign]

        async def pay_nwc(_runtime: Any, bolt11: str) -> float:
            await service.pay(bolt11)
            return settled[-1]

        try:
            yield Backend("nwc", {"wallet": "nwc", "nwc_uri": service.uri}, pay_nwc)
        finally:
            await service.stop()
    else:
        raise ValueError(f"unknown backend {name}")


class Customer:
    """One customer on the relay: sends NIP-04 orders, reads the merchant's replies live."""

    def __init__(self, relay_url: str, merchant_pubkey: str) -> None:
        self.key = customer_key(0)
        self.secret = nostr_sdk.SecretKey.parse(self.key.hex)
        self.merchant_pubkey = merchant_pubkey
        self.merchant = nostr_sdk.PublicKey.parse(merchant_pubkey)
        self.relay_url = relay_url
        self.client = nostr_sdk.Client()
        self.arrived: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self.client.add_relay(nostr_sdk.RelayUrl.parse(self.relay_url))
        await self.client.connect()
        me = nostr_sdk.PublicKey.parse(self.key.public_key)
        wanted = nostr_sdk.Filter().kinds([nostr_sdk.Kind(4)]).author(self.merchant).pubkey(me)
        stream = self.client.notifications()
        await self.client.subscribe(nostr_sdk.ReqTarget.auto([wanted.limit(0)]))
        self._reader = asyncio.create_task(self._read(stream))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.client.shutdown()

    async def _read(self, stream: Any) -> None:
        """Each DM as it arrives: the instant first, then decrypt."""
        while True:
            note = await stream.next()
            if note is None:
                return
            if not note.is_new_event():
                continue
            arrived = time.perf_counter()
            event = note.event
            try:
                text = nostr_sdk.nip04_decrypt(self.secret, event.author(), event.content())
                message = json.loads(text)
            except Exception:
                continue
            if isinstance(message, dict) and "id" in message:
                key = (str(message["id"]), int(message.get("type", -1)))
                if key in self.arrived and key[1] == 2 and not self.arrived[key][1].get("paid"):
                    self.arrived[key] = (arrived, message)  # a later type 2 (paid) wins
                self.arrived.setdefault(key, (arrived, message))
                self._changed.set()

    async def order(self, order_id: str, product_ids: list[str], zone_id: str) -> None:
        content = order_content(order_id, self.key.public_key, product_ids, zone_id)
        encrypted = nip04.encrypt(self.key, self.merchant_pubkey, content)
        event = sign_event(self.key, 4, encrypted, [["p", self.merchant_pubkey]])
        await self.client.send_event(nostr_sdk.Event.from_json(json.dumps(event.to_dict())))

    async def wait(
        self, order_id: str, type_: int, ready: Callable[[dict[str, Any]], bool]
    ) -> tuple[float, dict[str, Any]]:
        deadline = time.perf_counter() + WAIT
        while True:
            found = self.arrived.get((order_id, type_))
            if found is not None and ready(found[1]):
                return found
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no type {type_} for {order_id} within {WAIT:.0f} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
            except TimeoutError:
                pass


def lightning_invoice(request: dict[str, Any]) -> str:
    for option in request.get("payment_options") or []:
        if option.get("type") == "ln":
            return str(option["link"])
    raise ValueError(f"no ln payment option in {request}")


def stats(samples: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return {}

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * q) - 1))]

    return {
        "p50_ms": round(rank(0.50) * 1000, 1),
        "p95_ms": round(rank(0.95) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
    }


async def measure(name: str, count: int) -> dict[str, Any]:
    relay = BenchRelay()
    url = await relay.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"nb-settle-{name}-") as tmp_name:
            tmp = Path(tmp_name)
            async with backend(name, url, tmp) as chosen:
                return await _measure(chosen, url, tmp, count)
    finally:
        await relay.stop()


async def _measure(chosen: Backend, url: str, tmp: Path, count: int) -> dict[str, Any]:
    settings = replace(bench_settings(tmp / "data", [url]), **chosen.settings)
    runtime = Runtime(settings)
    await runtime.start()
    customer: Customer | None = None
    try:
        shop = await fill_shop(runtime, runtime.wallet, tmp / "data")
        await runtime.engine.refresh()  # subscribe now, not at the next 30 s refresh
        customer = Customer(url, shop.merchant.public_key)
        await customer.connect()
        await asyncio.sleep(1.0)  # both subscriptions reach the relay
        from_settled, from_call, request_s = [], [], []
        for i in range(count):
            order_id = f"settle-{chosen.name}-{i}"
            sent = time.perf_counter()
            await customer.order(order_id, shop.product_ids, shop.zone_id)
            got, request = await customer.wait(
                order_id, 1, lambda m: bool(m.get("payment_options"))
            )
            request_s.append(got - sent)
            bolt11 = lightning_invoice(request)
            called = time.perf_counter()
            settled = await chosen.pay(runtime, bolt11)
            arrived, _paid = await customer.wait(order_id, 2, lambda m: m.get("paid") is True)
            from_settled.append(arrived - settled)
            from_call.append(arrived - called)
        result: dict[str, Any] = {
            "backend": chosen.name,
            "n": count,
            **stats(from_settled),
            "from_pay_call": stats(from_call),
            "order_to_payment_request": stats(request_s),
            "samples_ms": [round(s * 1000, 2) for s in from_settled],
            "wallet_health": await runtime.wallet.health(),
        }
        if isinstance(runtime.wallet, LNbitsWallet):
            result["lnbits_websocket_up"] = runtime.wallet._socket_up.is_set()
        if isinstance(runtime.wallet, NWCWallet):
            result["nwc_notifications"] = runtime.wallet._notifications
        return result
    finally:
        if customer is not None:
            await customer.close()
        await runtime.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "date": now_iso(),
        "git": git_commit(),
        "machine": machine(),
        "count": args.count,
        "engine_intervals": INTERVALS,
        "backends": {},
    }
    for name in args.backends:
        try:
            outcome = await measure(name, args.count)
        except Exception as error:  # one backend failing still reports the others
            outcome = {"backend": name, "error": f"{type(error).__name__}: {error}"}
        report["backends"][name] = outcome
        for key in ("p50_ms", "p95_ms", "max_ms", "error"):
            if key in outcome:
                report[f"{name}_{key}"] = outcome[key]
        shown = {k: v for k, v in outcome.items() if k != "samples_ms"}
        print(f"settlement -> paid DM on the relay, {name}: {shown}", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20, help="orders paid per backend")
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    quiet_logs()
    report = asyncio.run(run(args))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, default=str))
    failed = [name for name, outcome in report["backends"].items() if "error" in outcome]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
