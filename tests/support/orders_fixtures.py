"""A shop for order-engine tests: a real SQLite file, the real FakeWallet, a merchant with
a small catalogue, and customers driven by nostr-sdk (an independent implementation).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nostr_sdk as sdk
from nostrbazaar.config import Settings
from nostrbazaar.crud.invoices import find_invoice
from nostrbazaar.crud.orders import OrderRow, get_order
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.migrations import run_migrations
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.orders.rates import FixedRates
from nostrbazaar.services.bus import Bus
from nostrbazaar.services.deps import Deps, Merchant, Merchants
from nostrbazaar.services.order_admin import (
    cancel_order,
    complete_order,
    reissue_invoice,
    ship_order,
)
from nostrbazaar.services.payments import expire_invoice, receive_payment
from nostrbazaar.storage.database import Database
from nostrbazaar.storage.engines import open_database
from nostrbazaar.storage.keystore import KeyStore
from nostrbazaar.wallets.fake import FakeWallet
from nostrbazaar.wallets.fake_db_store import DbFakeStore

SECRET = "engine-test-secret"


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """The shop's settings. The new-customer stock share is off (100) unless a test sets
    it: most tests order more than half of a five-unit product from a fresh key, and
    the share rule has tests of its own (tests/engine/test_hostage_stock.py)."""
    overrides.setdefault("new_customer_stock_share", 100)
    return Settings(data_dir=data_dir, secret=SECRET, **overrides)


@dataclass
class Shop:
    """One merchant with stall `stall-1` (sats), zone `zone-1` and product `p1`."""

    deps: Deps
    merchant: Merchant
    wallet: FakeWallet
    db: Database
    merchant_id: str = "merchant-1"
    closed: bool = field(default=False)

    async def product(
        self,
        pid: str,
        price: str = "100",
        quantity: int = 5,
        *,
        stall: str = "stall-1",
        currency: str | None = None,
        autoreply: str | None = None,
        active: bool = True,
        zone_cost: str | None = "2",
    ) -> None:
        now = int(time.time())
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO products (id, merchant_id, stall_id, name, price, currency, quantity,"
                " active, use_autoreply, autoreply_message, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, self.merchant_id, stall, f"Product {pid}", price, currency, quantity,
                 int(active), int(autoreply is not None), autoreply, now, now),
            )  # fmt: skip
            if zone_cost is not None:
                await conn.execute(
                    "INSERT INTO product_shipping (product_id, zone_id, cost) VALUES (?, ?, ?)",
                    (pid, "zone-1", zone_cost),
                )

    async def stock(self, pid: str = "p1") -> int:
        row = await self.db.fetchone("SELECT quantity FROM products WHERE id = ?", (pid,))
        assert row is not None
        return int(row["quantity"])

    async def order(self, order_id: str) -> OrderRow:
        row = await get_order(self.db, self.merchant_id, order_id)
        assert row is not None, f"no order {order_id}"
        return row

    async def outbox(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """The outbox rows (oldest first) as dicts with the parsed event."""
        rows = await self.db.fetchall("SELECT * FROM outbox ORDER BY id")
        out = [{**dict(row), "event": json.loads(row["event"])} for row in rows]
        return [r for r in out if order_id is None or r["order_id"] == order_id]

    async def verdicts(self) -> dict[str, tuple[str, str | None]]:
        rows = await self.db.fetchall("SELECT id, verdict, reason FROM inbox")
        return {row["id"]: (row["verdict"], row["reason"]) for row in rows}

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.wallet.stop()
            await self.db.close()


async def make_shop(
    data_dir: Path,
    merchant_secret: str | None = None,
    wallet_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
    wallet_in_database: bool = True,
    **overrides: Any,
) -> Shop:
    """Open (or reopen) the shop in `data_dir`; the catalogue is created once. `clock`
    is the engine's and the wallet's time (a test moves it to expire invoices). With a
    database URL the fake wallet keeps its invoices in the database, unless
    `wallet_in_database` is False: then in `wallet_dir`, as a node that outlives the
    database (a restore into an empty database asks the same node)."""
    settings = settings_for(data_dir, **overrides)
    db = open_database(settings.database_url, settings.database_path)
    await db.connect()
    await run_migrations(db)
    keystore = KeyStore(SECRET)
    in_database = settings.database_url and wallet_in_database
    store = DbFakeStore(db) if in_database else None  # the invoices in the database
    wallet = FakeWallet(wallet_dir or data_dir / "wallet", clock, store=store)
    await wallet.start()
    key = PrivateKey.from_hex(merchant_secret) if merchant_secret else PrivateKey.generate()
    if await db.fetchone("SELECT 1 FROM merchants WHERE id = 'merchant-1'") is None:
        await _create_catalogue(db, keystore, key)
    merchants = Merchants(db, keystore)
    deps = Deps(db, settings, merchants, wallet, Bus(), FixedRates(settings.fiat_rates), clock)
    return Shop(deps, await merchants.get("merchant-1"), wallet, db)


async def create_catalogue(db: Database, keystore: KeyStore, key: PrivateKey) -> None:
    """Account, merchant `merchant-1` with `key`, zone `zone-1`, stall `stall-1`, product `p1`."""
    await _create_catalogue(db, keystore, key)


async def _create_catalogue(db: Database, keystore: KeyStore, key: PrivateKey) -> None:
    now = int(time.time())
    statements = [
        ("INSERT INTO accounts (id, name, admin_key, invoice_key, created_at)"
         " VALUES ('account-1', 'shop', 'admin-1', 'invoice-1', ?)", (now,)),
        ("INSERT INTO merchants (id, account_id, public_key, private_key_sealed, created_at,"
         " updated_at) VALUES ('merchant-1', 'account-1', ?, ?, ?, ?)",
         (key.public_key, keystore.seal(key.hex), now, now)),
        ("INSERT INTO zones (id, merchant_id, name, currency, cost, countries, created_at,"
         " updated_at) VALUES ('zone-1', 'merchant-1', 'Europe', 'sat', '5', '[\"Portugal\"]',"
         " ?, ?)", (now, now)),
        ("INSERT INTO stalls (id, merchant_id, name, currency, created_at, updated_at)"
         " VALUES ('stall-1', 'merchant-1', 'Stall', 'sat', ?, ?)", (now, now)),
        ("INSERT INTO stall_zones (stall_id, zone_id) VALUES ('stall-1', 'zone-1')", ()),
        ("INSERT INTO products (id, merchant_id, stall_id, name, price, quantity, created_at,"
         " updated_at) VALUES ('p1', 'merchant-1', 'stall-1', 'Product p1', '100', 5, ?, ?)",
         (now, now)),
        ("INSERT INTO product_shipping (product_id, zone_id, cost) VALUES ('p1', 'zone-1', '2')",
         ()),
    ]  # fmt: skip
    async with db.transaction() as conn:
        for sql, params in statements:
            await conn.execute(sql, params)


def order_content(
    order_id: str,
    items: list[tuple[str, int]] | None = None,
    zone: str = "zone-1",
    address: str | None = "1 Road, Lisbon",
    **extra: Any,
) -> str:
    data: dict[str, Any] = {
        "id": order_id,
        "type": 0,
        "items": [{"product_id": p, "quantity": q} for p, q in (items or [("p1", 1)])],
        "shipping_id": zone,
        **extra,
    }
    if address is not None:
        data["address"] = address
    return json.dumps(data)


class Customer:
    """A customer using nostr-sdk: writes orders over NIP-04 or NIP-17, reads replies."""

    def __init__(self) -> None:
        self.keys = sdk.Keys.generate()

    @property
    def pubkey(self) -> str:
        return str(self.keys.public_key().to_hex())

    def nip04(
        self, merchant_pubkey: str, content: str, created_at: int | None = None
    ) -> dict[str, Any]:
        """A signed kind 4 event to the merchant, as a JSON dict."""
        merchant = sdk.PublicKey.parse(merchant_pubkey)
        encrypted = sdk.nip04_encrypt(self.keys.secret_key(), merchant, content)
        builder = sdk.EventBuilder(sdk.Kind(4), encrypted).tags([sdk.Tag.public_key(merchant)])
        if created_at is not None:
            builder = builder.custom_created_at(sdk.Timestamp.from_secs(created_at))
        return dict(json.loads(builder.finalize(self.keys).as_json()))

    def signed_kind4(self, merchant_pubkey: str, raw_content: str) -> dict[str, Any]:
        """A kind 4 to the merchant whose content is used as given (not encrypted here)."""
        merchant = sdk.PublicKey.parse(merchant_pubkey)
        builder = sdk.EventBuilder(sdk.Kind(4), raw_content).tags([sdk.Tag.public_key(merchant)])
        return dict(json.loads(builder.finalize(self.keys).as_json()))

    def nip17(self, merchant_pubkey: str, content: str) -> dict[str, Any]:
        """A NIP-17 gift wrap (kind 1059) to the merchant, as a JSON dict."""
        wrap = sdk.nip17_make_private_msg(self.keys, sdk.PublicKey.parse(merchant_pubkey), content)
        return dict(json.loads(wrap.as_json()))

    def read(self, event: dict[str, Any]) -> dict[str, Any] | str | None:
        """The content of a merchant's message to this customer (JSON parsed when it is)."""
        text = self._open(event)
        if text is None:
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        return parsed if isinstance(parsed, dict) else text

    def _open(self, event: dict[str, Any]) -> str | None:
        if event["kind"] == 4:
            if ["p", self.pubkey] not in event["tags"]:
                return None
            sender = sdk.PublicKey.parse(event["pubkey"])
            return str(sdk.nip04_decrypt(self.keys.secret_key(), sender, event["content"]))
        if ["p", self.pubkey] not in event["tags"]:
            return None
        gift = sdk.UnwrappedGift.from_gift_wrap(self.keys, sdk.Event.from_json(json.dumps(event)))
        return str(gift.rumor().content())

    async def inbox(self, shop: Shop, order_id: str | None = None) -> list[Any]:
        """Every message the shop queued for this customer, decrypted, oldest first."""
        messages = []
        for row in await shop.outbox(order_id):
            content = self.read(row["event"])
            if content is not None:
                messages.append(content)
        return messages


async def place(
    shop: Shop,
    customer: Customer,
    order_id: str,
    items: list[tuple[str, int]] | None = None,
    transport: str = "nip04",
    **extra: Any,
) -> Any:
    """A customer's order through the whole ingest path; returns the verdict."""
    content = order_content(order_id, items, **extra)
    make = customer.nip04 if transport == "nip04" else customer.nip17
    return await ingest_event(shop.deps, shop.merchant, make(shop.merchant.public_key, content))


async def current_bolt11(shop: Shop, order_id: str) -> str:
    order = await shop.order(order_id)
    assert order.bolt11, f"order {order_id} has no invoice"
    return order.bolt11


async def pay(shop: Shop, bolt11: str) -> Any:
    """Pay with the FakeWallet and hand the settlement to the engine (as the stream would)."""
    settlement = await shop.wallet.pay(bolt11)
    return await receive_payment(shop.deps, settlement)


async def expire(shop: Shop, order_id: str) -> Any:
    """Expire the order's current invoice now, as the sweeper would when its time is up."""
    order = await shop.order(order_id)
    ref = await find_invoice(shop.db, order.payment_hash or "")
    assert ref is not None
    return await expire_invoice(shop.deps, ref)


async def busy_shop(shop: Shop) -> dict[str, Customer]:
    """Orders in every status, through the real services."""
    await shop.product("p2", "50", 10)
    people = {name: Customer() for name in ("ann", "bob", "cat", "dan")}
    ann, bob, cat, dan = people.values()
    await place(shop, ann, "waiting", [("p1", 1)])
    await place(shop, ann, "paid", [("p2", 2)], transport="nip17")
    await pay(shop, await current_bolt11(shop, "paid"))
    await place(shop, bob, "shipped", [("p1", 1), ("p2", 1)])
    await pay(shop, await current_bolt11(shop, "shipped"))
    await ship_order(shop.deps, shop.merchant_id, "shipped", "on its way")
    await place(shop, bob, "done", [("p2", 1)])
    await pay(shop, await current_bolt11(shop, "done"))
    await ship_order(shop.deps, shop.merchant_id, "done", "sent")
    await complete_order(shop.deps, shop.merchant_id, "done")
    await place(shop, cat, "expired", [("p2", 3)])
    await expire(shop, "expired")
    await place(shop, cat, "cancelled", [("p1", 1)])
    first = await current_bolt11(shop, "cancelled")
    await cancel_order(shop.deps, shop.merchant_id, "cancelled", "changed my mind")
    await place(shop, dan, "rejected", [("nope", 1)])
    await place(shop, dan, "reissued", [("p2", 1)])
    old = await current_bolt11(shop, "reissued")
    await reissue_invoice(shop.deps, shop.merchant_id, "reissued")
    await pay(shop, await current_bolt11(shop, "reissued"))
    await pay(shop, old)  # the superseded invoice paid too: refund needed
    assert first  # the cancelled order's invoice stays unpaid here
    await shop.product("last", "10", 1)
    await place(shop, ann, "got-the-last", [("last", 1)])
    await place(shop, bob, "too-late", [("last", 1)])  # refused: the stock is gone
    pk = shop.merchant.public_key
    await ingest_event(shop.deps, shop.merchant, ann.nip04(pk, "do you ship to Madeira?"))
    forged = json.dumps({"id": "waiting", "type": 2, "paid": True, "shipped": True})
    await ingest_event(shop.deps, shop.merchant, dan.nip17(pk, forged))  # changes nothing
    return people


async def snapshot(
    db: Database, merchant_id: str = "merchant-1"
) -> dict[str, list[tuple[Any, ...]]]:
    """The projections as sorted tuples, for comparing before/after a rebuild."""
    queries = {
        "orders": "SELECT * FROM orders WHERE merchant_id = ? ORDER BY id",
        "invoices": "SELECT * FROM invoices WHERE merchant_id = ? ORDER BY payment_hash",
        "payments": "SELECT * FROM payments WHERE merchant_id = ? ORDER BY payment_hash",
        "reservations": "SELECT * FROM reservations WHERE merchant_id = ?"
        " ORDER BY order_id, product_id",
        "stock": "SELECT id, quantity FROM products WHERE merchant_id = ? ORDER BY id",
    }
    return {name: [tuple(row) for row in await db.fetchall(sql, (merchant_id,))]
            for name, sql in queries.items()}  # fmt: skip


async def dm_history(shop: Shop) -> list[dict[str, Any]]:
    """What the relays would hold for the merchant's restore filters: every kind 4 to or
    from it, and every gift wrap addressed to it (customer orders and its copies to self)."""
    rows = await shop.db.fetchall("SELECT raw FROM inbox WHERE id NOT LIKE 'invalid:%'")
    events = [json.loads(row["raw"]) for row in rows]
    events += [row["event"] for row in await shop.outbox()]
    pubkey = shop.merchant.public_key
    return [
        e for e in {e["id"]: e for e in events}.values()
        if e["kind"] == 4 or (e["kind"] == 1059 and ["p", pubkey] in e["tags"])
    ]  # fmt: skip


ORDER_FIELDS = (
    "id, status, public_key, stall_id, zone_id, address, items, subtotal_msat, shipping_msat,"
    " total_msat, currency, payment_hash, paid, shipped, transport, reason, refund_msat"
)


async def order_state(shop: Shop | Database) -> dict[str, Any]:
    """Orders (what a restore must reproduce) and stock, comparable across databases."""
    db = shop.db if isinstance(shop, Shop) else shop
    orders = await db.fetchall(f"SELECT {ORDER_FIELDS} FROM orders ORDER BY id")
    stock = await db.fetchall("SELECT id, quantity FROM products ORDER BY id")
    return {"orders": [tuple(r) for r in orders], "stock": [tuple(r) for r in stock]}
