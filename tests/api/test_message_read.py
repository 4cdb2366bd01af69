"""Reading a conversation has no side effect; marking it read is a write, for the admin key."""

from __future__ import annotations

import secrets
import time

import httpx
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services.chat import receive_chat
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.deps import Deps

from .conftest import Shop


async def customer_writes(engine: Deps, shop: Shop, text: str) -> str:
    customer = PrivateKey.generate().public_key
    merchant = await engine.merchants.get(shop.merchant["id"])
    incoming = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04",
                        int(time.time()), text)  # fmt: skip
    await receive_chat(engine, incoming)
    return customer


async def unread(client: httpx.AsyncClient, shop: Shop) -> list[int]:
    customers = (await client.get("/api/v1/customer", headers=shop.reader)).json()
    return [customer["unread_messages"] for customer in customers]


async def test_reading_a_conversation_with_the_invoice_key_leaves_it_unread(
    client: httpx.AsyncClient, alice: Shop, engine: Deps
) -> None:
    customer = await customer_writes(engine, alice, "do you ship to Madeira?")
    listed = await client.get(f"/api/v1/message/{customer}", headers=alice.reader)
    assert [m["message"] for m in listed.json()] == ["do you ship to Madeira?"]
    await client.get(f"/api/v1/message/{customer}", headers=alice.admin)
    assert await unread(client, alice) == [1]


async def test_marking_a_conversation_read_needs_the_admin_key(
    client: httpx.AsyncClient, alice: Shop, engine: Deps
) -> None:
    customer = await customer_writes(engine, alice, "hello?")
    path = f"/api/v1/message/{npub_encode(customer)}/read"
    assert (await client.put(path, headers=alice.reader)).status_code == 401
    assert await unread(client, alice) == [1]
    assert (await client.put(path, headers=alice.admin)).status_code == 204
    assert await unread(client, alice) == [0]


async def test_marking_read_takes_only_a_public_key_and_only_the_callers_conversation(
    client: httpx.AsyncClient, alice: Shop, bob: Shop, engine: Deps
) -> None:
    bad = await client.put("/api/v1/message/zzz/read", headers=alice.admin)
    assert bad.status_code == 422
    customer = await customer_writes(engine, alice, "hi")
    await client.put(f"/api/v1/message/{customer}/read", headers=bob.admin)
    assert await unread(client, alice) == [1]
