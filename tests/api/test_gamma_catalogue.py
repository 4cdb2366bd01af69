"""The catalogue in the Gamma market spec's kinds, beside NIP-15's: each product a 30402
listing, each stall a 30405 collection, each zone a 30406 shipping option (tags as the
spec's examples write them, in the shapes Plebeian Market's schemas accept), NIP-09
deletions naming the 30402 and 30405 too, and the merchant's kind 0 with `lud16` and
`payment_preference`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from fastapi import FastAPI
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.nostr.event import Event, parse_event
from nostrbazaar.nostr.nip19 import npub_encode

from .conftest import Shop, open_shop


def latest(events: list[tuple[str, Event]], kind: int, d: str | None = None) -> Event:
    found = [e for _p, e in events if e.kind == kind and (d is None or e.first_tag("d") == d)]
    assert found, f"no kind {kind} event"
    return found[-1]


async def test_a_product_is_also_a_30402_listing(alice: Shop, outbox: Any) -> None:
    stall = await alice.stall()
    product = await alice.product(stall, quantity=7, config={
        "description": "Steamed green tea\nFrom Shizuoka", "specs": [["origin", "Japan"]],
        "shipping": [{"id": stall["shipping_zones"][0]["id"], "cost": 1}],
    })  # fmt: skip
    pk, stall_id = alice.merchant["public_key"], product["stall_id"]
    zone_id = product["config"]["shipping"][0]["id"]
    listing = latest(await outbox(alice.merchant["id"]), 30402)
    assert listing.pubkey == pk and listing.content == "Steamed green tea\nFrom Shizuoka"
    assert listing.tags == [
        ["d", product["id"]], ["title", "Sencha"], ["price", "12.5", "SATS"],
        ["type", "simple", "physical"], ["visibility", "on-sale"], ["stock", "7"],
        ["summary", "Steamed green tea"],
        ["image", "https://example.com/sencha.jpg", "", "0"], ["spec", "origin", "Japan"],
        ["t", "tea"], ["t", "green"],
        ["shipping_option", f"30406:{pk}:{zone_id}", "1"],
        ["shipping", "Added Cost", "501", "SATS"], ["a", f"30405:{pk}:{stall_id}"],
    ]  # fmt: skip


async def test_a_stall_is_a_30405_collection_and_its_zones_30406_shipping_options(
    alice: Shop, outbox: Any
) -> None:
    stall = await alice.stall(
        config={"description": "Loose leaf", "image_url": "https://e.com/s.png"}
    )
    product = await alice.product(stall)
    pk, zone = alice.merchant["public_key"], stall["shipping_zones"][0]
    events = await outbox(alice.merchant["id"])
    collection = latest(events, 30405, stall["id"])
    assert collection.tags == [
        ["d", stall["id"]], ["title", "Tea stall"], ["a", f"30402:{pk}:{product['id']}"],
        ["image", "https://e.com/s.png"], ["summary", "Loose leaf"],
        ["shipping_option", f"30406:{pk}:{zone['id']}"],
    ]  # fmt: skip
    option = latest(events, 30406, zone["id"])
    assert option.tags == [
        ["d", zone["id"]], ["title", "Europe"], ["price", "500", "SATS"],
        ["country", "DE", "FR"], ["service", "standard"],
    ]  # fmt: skip


async def test_a_digital_zone_is_a_digital_option_and_fiat_prices_keep_their_currency(
    alice: Shop, outbox: Any
) -> None:
    zone = await alice.zone(name="Online", currency="USD", cost=0, countries=["Free (digital)"])
    stall = await alice.stall(zone)
    await alice.product(stall, price="3.99", config={})
    events = await outbox(alice.merchant["id"])
    option = latest(events, 30406, zone["id"])
    assert option.tags == [["d", zone["id"]], ["title", "Online"], ["price", "0", "USD"],
                           ["service", "digital"]]  # fmt: skip
    assert option.content == "Online, Free (digital)"
    listing = latest(events, 30402)
    assert ["price", "3.99", "USD"] in listing.tags
    assert ["type", "simple", "digital"] in listing.tags
    assert ["shipping", "N/A", "0", "USD"] in listing.tags  # Shopstr asks no address


def shopstr_shipping(listing: Event) -> list[list[str]]:
    return [tag for tag in listing.tags if tag[0] == "shipping"]


async def test_the_listing_tells_shopstr_the_cost_of_the_zone_its_orders_are_priced_on(
    alice: Shop, client: httpx.AsyncClient, outbox: Any
) -> None:
    """Shopstr (utils/parsers/product-tag-helpers.ts, `parseShippingTag`) reads only its own
    `["shipping", type, cost, currency]` and charges price + cost; its orders go to the
    stall's cheapest zone by base cost (`default_zone`), with the product's extra cost."""
    cheap = await alice.zone(name="Iberia", cost=300, countries=["PT", "ES"])
    dear = await alice.zone(name="World", cost=400, countries=["US"])
    stall = await alice.stall(dear, shipping_zones=[dear["id"], cheap["id"]])
    extra = [{"id": cheap["id"], "cost": "150.5"}]  # Iberia: 450.5, World: 400
    product = await alice.product(stall, price="12.5", config={"shipping": extra})
    listing = latest(await outbox(alice.merchant["id"]), 30402)
    assert shopstr_shipping(listing) == [["shipping", "Added Cost", "450.5", "SATS"]]
    kinds = {tag[0] for tag in listing.tags}
    assert {"shipping_option", "price", "a"} <= kinds  # the Gamma spec's tags are kept
    response = await client.patch(f"/api/v1/zone/{cheap['id']}", json={"cost": 0},
                                  headers=alice.admin)  # fmt: skip
    assert response.status_code == 200
    listing = latest(await outbox(alice.merchant["id"]), 30402, product["id"])
    assert shopstr_shipping(listing) == [["shipping", "Added Cost", "150.5", "SATS"]]


async def test_a_cheaper_zone_given_to_the_stall_republishes_the_listing_for_shopstr(
    alice: Shop, client: httpx.AsyncClient, outbox: Any
) -> None:
    stall = await alice.stall()  # Europe, 500 sat; the product adds 1 there
    product = await alice.product(stall)
    cheap = await alice.zone(name="Iberia", cost=120, countries=["PT"])
    zones = [stall["shipping_zones"][0]["id"], cheap["id"]]
    body = {"name": stall["name"], "currency": "sat", "shipping_zones": zones}
    response = await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    assert response.status_code == 200
    listing = latest(await outbox(alice.merchant["id"]), 30402, product["id"])
    assert shopstr_shipping(listing) == [["shipping", "Added Cost", "120", "SATS"]]
    assert f"30406:{alice.merchant['public_key']}:{cheap['id']}" in listing.tag_values(
        "shipping_option"
    )


async def test_a_free_cheapest_zone_is_free_shipping_for_shopstr(alice: Shop, outbox: Any) -> None:
    free = await alice.zone(name="Local", cost=0, countries=["PT"])
    stall = await alice.stall(free)
    await alice.product(stall, config={})
    listing = latest(await outbox(alice.merchant["id"]), 30402)
    assert shopstr_shipping(listing) == [["shipping", "Free", "0", "SATS"]]


async def test_a_deactivated_product_leaves_its_collection_and_its_listing_is_deleted(
    alice: Shop, client: httpx.AsyncClient, outbox: Any
) -> None:
    product = await alice.product()
    pk = alice.merchant["public_key"]
    path = f"/api/v1/product/{product['id']}"
    await client.patch(path, json={"active": False}, headers=alice.admin)
    events = await outbox(alice.merchant["id"])
    deletion = latest(events, 5)
    assert f"30402:{pk}:{product['id']}" in deletion.tag_values("a")
    assert set(deletion.tag_values("k")) == {"30018", "30402"}
    assert latest(events, 30405).tag_values("a") == []
    await client.patch(path, json={"active": True}, headers=alice.admin)
    events = await outbox(alice.merchant["id"])
    assert latest(events, 30405).tag_values("a") == [f"30402:{pk}:{product['id']}"]
    assert latest(events, 30402).created_at > deletion.created_at
    stamps = [e.created_at for _p, e in events if e.kind == 30405]
    assert len(stamps) == 4 and stamps == sorted(set(stamps))  # each version after the last


async def test_a_stock_change_republishes_the_listing_not_the_collection(
    alice: Shop, client: httpx.AsyncClient, outbox: Any
) -> None:
    product = await alice.product()
    before = len(await outbox(alice.merchant["id"]))
    path = f"/api/v1/product/{product['id']}"
    await client.patch(path, json={"quantity": 3}, headers=alice.admin)
    kinds = [e.kind for _p, e in (await outbox(alice.merchant["id"]))[before:]]
    assert kinds == [30402, 30018]
    assert ["stock", "3"] in latest(await outbox(alice.merchant["id"]), 30402).tags


async def test_deleting_a_zone_deletes_its_shipping_option(
    alice: Shop, client: httpx.AsyncClient, outbox: Any
) -> None:
    spare = await alice.zone(name="Spare", countries=["PT"])
    stall = await alice.stall()
    body = {"name": stall["name"], "currency": "sat",
            "shipping_zones": [stall["shipping_zones"][0]["id"], spare["id"]]}  # fmt: skip
    await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    published = latest(await outbox(alice.merchant["id"]), 30406, spare["id"])
    response = await client.delete(f"/api/v1/zone/{spare['id']}", headers=alice.admin)
    assert response.status_code == 204
    deletion = latest(await outbox(alice.merchant["id"]), 5)
    assert deletion.tag_values("a") == [f"30406:{alice.merchant['public_key']}:{spare['id']}"]
    assert deletion.created_at > published.created_at


def profile_of(events: list[tuple[str, Event]]) -> tuple[dict[str, Any], list[list[str]]]:
    event = latest(events, 0)
    return json.loads(event.content), event.tags


async def test_without_a_public_address_the_profile_says_payment_is_requested(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    shop = await open_shop(client, "Dora")
    profile, tags = profile_of(await outbox(shop.merchant["id"]))
    expected = {"name": "Dora", "shopstr_donation": 0}  # Shopstr sends the whole price
    assert (profile, tags) == (expected, [["payment_preference", "manual"]])


@pytest.fixture
async def public_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(data_dir=tmp_path / "public", secret="s", public_url="https://shop.example")
    application = create_app(settings)
    application.state.runtime.background = False
    async with LifespanManager(application):
        yield application


async def test_with_a_public_address_the_profile_carries_the_lightning_address(
    public_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=public_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        shop = await open_shop(client, "Erin")
        pubkey, merchant_id = shop.merchant["public_key"], shop.merchant["id"]
        rows = await public_app.state.runtime.db.fetchall(
            "SELECT event FROM outbox WHERE merchant_id = ? ORDER BY id", (merchant_id,)
        )
    events = [("", parse_event(json.loads(row["event"]))) for row in rows]
    profile, tags = profile_of(events)
    lud16 = f"{npub_encode(pubkey)}@shop.example"
    assert profile == {"name": "Erin", "lud16": lud16, "shopstr_donation": 0}
    assert tags == [["payment_preference", "lud16"]]
