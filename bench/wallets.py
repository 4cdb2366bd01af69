"""Wallet benchmarks: fake-wallet minting rate, and settlement-to-stream latency per backend.

Run: `.venv/bin/python bench/wallets.py [--no-lnbits] [--minting-only] [--invoices N]
[--payments N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]`.
Latency is measured from just before the payer starts paying to the moment the
settlement comes out of `settlements()`; for LNbits the payer is an internal
payment from a second wallet (the HTTP round trip of paying is included).
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import bolt11 as bolt11_lib
import nostr_sdk
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.nostr.secp import EcdsaKey
from nostrbazaar.storage.base import Database
from nostrbazaar.storage.engines import in_schema, open_database
from nostrbazaar.tests.support.lnbits_server import LNbitsServer
from nostrbazaar.tests.support.nwc_service import NWCService
from nostrbazaar.wallets.base import NewInvoice, Wallet
from nostrbazaar.wallets.fake import FakeWallet
from nostrbazaar.wallets.fake_db_store import DbFakeStore
from nostrbazaar.wallets.invoice_codec import InvoiceFields, decode_invoice, encode_invoice
from nostrbazaar.wallets.lnbits import LNbitsWallet
from nostrbazaar.wallets.minting import InvoiceRequest
from nostrbazaar.wallets.nwc import NWCWallet


def bench_encoder(count: int) -> tuple[float, float]:
    """Invoices per second: our encoder (per CPU second), and the `bolt11` package's."""
    key = EcdsaKey()
    fields = [
        InvoiceFields(21_000, os.urandom(32), os.urandom(32), f"order {i}", 1_800_000_000, 3600)
        for i in range(count)
    ]
    start = time.process_time()
    for item in fields:
        encode_invoice(item, key)
    ours = count / (time.process_time() - start)
    theirs_count = max(count // 20, 50)
    start = time.perf_counter()
    for item in fields[:theirs_count]:
        invoice = bolt11_lib.Bolt11(
            currency="bcrt",
            amount_msat=bolt11_lib.MilliSatoshi(item.amount_msat),
            date=item.timestamp,
            tags=bolt11_lib.Tags.from_dict(
                {
                    "payment_hash": item.payment_hash.hex(),
                    "payment_secret": item.payment_secret.hex(),
                    "description": item.description,
                    "expire_time": item.expiry,
                }
            ),
        )
        bolt11_lib.encode(invoice, key.secret.hex())
    theirs = theirs_count / (time.perf_counter() - start)
    return ours, theirs


def bench_decoder(count: int) -> tuple[float, float]:
    """Invoices read per second: our reader, and `bolt11.decode` (which it must agree with)."""
    key = EcdsaKey()
    fields = [
        InvoiceFields(21_000 + i, os.urandom(32), os.urandom(32), f"Order {i}", 1_800_000_000, 3600)
        for i in range(count)
    ]
    invoices = [encode_invoice(item, key) for item in fields]
    start = time.perf_counter()
    decoded = [decode_invoice(text) for text in invoices]
    ours = count / (time.perf_counter() - start)
    theirs_count = max(count // 20, 50)
    start = time.perf_counter()
    references = [bolt11_lib.decode(text) for text in invoices[:theirs_count]]
    theirs = theirs_count / (time.perf_counter() - start)
    for mine, reference in zip(decoded, references, strict=False):
        assert (mine.payment_hash, mine.amount_msat, mine.timestamp, mine.expiry) == (
            reference.payment_hash,
            reference.amount_msat,
            reference.date,
            reference.expiry,
        ), "decode_invoice disagrees with bolt11.decode"
    return ours, theirs


async def bench_fake_minting(count: int) -> tuple[float, float]:
    """CPU us per `FakeWallet.create_invoice`, SQLite included: minted back to back (one
    commit for a burst), and one per turn of the event loop (one commit each).
    """
    with tempfile.TemporaryDirectory() as tmp:
        wallet = FakeWallet(Path(tmp))
        await wallet.start()
        start = time.process_time()
        for i in range(count):
            await wallet.create_invoice(21_000, f"order {i}", 3600, {"order_id": str(i)})
        burst = (time.process_time() - start) / count * 1e6
        start = time.process_time()
        for i in range(count):
            await wallet.create_invoice(21_000, f"order {i}", 3600, {"order_id": str(i)})
            await asyncio.sleep(0)
        one_per_turn = (time.process_time() - start) / count * 1e6
        await wallet.stop()
    return burst, one_per_turn


async def bench_fake_batch_minting(
    count: int, batch: int = 1000, pg_url: str | None = None
) -> tuple[float, float]:
    """`FakeWallet.create_invoices` in batches of `batch`: invoices per second (wall) and CPU
    us an invoice (this process: the loop and the store's thread), until the last batch is
    committed; in the data dir's SQLite file, or with `pg_url` in a fresh PostgreSQL schema
    there (the store of the service on PostgreSQL), dropped afterwards.
    """
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{os.urandom(6).hex()}"
        db = await _bench_database(pg_url, schema) if pg_url else None
        wallet = FakeWallet(Path(tmp), store=DbFakeStore(db) if db else None)
        await wallet.start()
        requests = [
            InvoiceRequest(21_000, f"order {i}", 3600, {"order_id": str(i)}) for i in range(batch)
        ]
        rounds = max(1, count // batch)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            outcomes = await wallet.create_invoices(requests)
            assert all(isinstance(one, NewInvoice) for one in outcomes), outcomes[:3]
        await wallet.stop()  # waits for the file store's thread to commit the last batch
        minted = rounds * batch
        rate, us = minted / (time.perf_counter() - wall), (time.process_time() - cpu) / minted * 1e6
        if db is not None and pg_url:
            await db.close()
            await _drop_schema(pg_url, schema)
    return rate, us


async def _bench_database(url: str, schema: str) -> Database:
    conn = await asyncpg.connect(url)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    db = open_database(in_schema(url, schema), Path("unused"))
    await db.connect()
    return db


async def _drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


async def latencies(
    wallet: Wallet, pay: Callable[[str], Awaitable[object]], count: int
) -> list[float]:
    """Seconds from starting to pay to the settlement leaving `settlements()`."""
    stream = wallet.settlements()
    samples = []
    for i in range(count):
        new = await wallet.create_invoice(10_000, f"bench {i}", 600)
        start = time.perf_counter()
        await pay(new.bolt11)
        while (await asyncio.wait_for(anext(stream), 30)).payment_hash != new.payment_hash:
            pass
        samples.append(time.perf_counter() - start)
    return samples


async def fake_latency(count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        wallet = FakeWallet(Path(tmp))
        await wallet.start()
        try:
            return await latencies(wallet, wallet.pay, count)
        finally:
            await wallet.stop()


class BenchRelay(EmbeddedRelay):
    """The embedded relay without its per-connection write rate limit."""

    async def start(self) -> str:
        builder = nostr_sdk.LocalRelayBuilder().addr("127.0.0.1").port(self.port)
        limit = nostr_sdk.RateLimit(max_reqs=1000, notes_per_minute=1_000_000)
        self._relay = builder.rate_limit(limit).build()
        await self._relay.run()
        return self.url


async def nwc_latency(count: int) -> list[float]:
    relay = BenchRelay()
    url = await relay.start()
    with tempfile.TemporaryDirectory() as tmp:
        service = NWCService([url], Path(tmp))
        await service.start()
        wallet = NWCWallet(service.uri)
        await wallet.start()
        try:
            return await latencies(wallet, service.pay, count)
        finally:
            await wallet.stop()
            await service.stop()
            await relay.stop()


async def lnbits_latency(count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = LNbitsServer(Path(tmp))
        server.start()
        try:
            assert server.merchant is not None
            wallet = LNbitsWallet(server.url, server.merchant.inkey)
            await wallet.start()
            try:
                return await latencies(wallet, lambda b: asyncio.to_thread(server.pay, b), count)
            finally:
                await wallet.stop()
        finally:
            server.stop()


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})"
    )


async def main(args: argparse.Namespace) -> None:
    ours, theirs = bench_encoder(args.invoices)
    print(f"BOLT11 encode, ours:           {ours:,.0f} invoices/s ({1e6 / ours:.1f} us each)")
    print(f"BOLT11 encode, bolt11 package: {theirs:,.0f} invoices/s")
    ours, theirs = bench_decoder(args.invoices)
    print(f"BOLT11 decode, ours:           {ours:,.0f} invoices/s")
    print(f"BOLT11 decode, bolt11 package: {theirs:,.0f} invoices/s")
    burst, one_per_turn = await bench_fake_minting(args.invoices)
    print(f"FakeWallet.create_invoice:     {burst:.0f} us CPU back to back (one commit)")
    print(f"{'':31}{one_per_turn:.0f} us CPU one per loop turn (a commit each)")
    rate, cpu = await bench_fake_batch_minting(args.invoices)
    print(f"FakeWallet.create_invoices:    {rate:,.0f} invoices/s, {cpu:.0f} us CPU each")
    print(f"{'':31}(batches of 1,000, until committed to SQLite)")
    if args.pg:
        rate, cpu = await bench_fake_batch_minting(args.invoices, pg_url=args.pg)
        print(f"  on PostgreSQL:               {rate:,.0f} invoices/s, {cpu:.0f} us CPU each")
        print(f"{'':31}(this process only: the server's CPU is not counted)")
    if args.minting_only:
        return
    print(f"settlement -> stream, fake:    {summary(await fake_latency(args.payments))}")
    print(f"settlement -> stream, nwc:     {summary(await nwc_latency(args.payments))}")
    if not args.no_lnbits:
        print(f"settlement -> stream, lnbits:  {summary(await lnbits_latency(args.payments))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=5000)
    parser.add_argument("--payments", type=int, default=30)
    parser.add_argument("--no-lnbits", action="store_true")
    parser.add_argument("--minting-only", action="store_true", help="no settlement latencies")
    parser.add_argument("--pg", metavar="URL", help="also mint batches on this PostgreSQL")
    asyncio.run(main(parser.parse_args()))
