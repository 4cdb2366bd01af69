"""The catalogue on Nostr: each change queues a correctly signed NIP-15 or NIP-09 event."""

from __future__ import annotations

import json


def kinds(events):
    return [event.kind for _purpose, event in events]


async def test_new_merchant_publishes_its_profile_and_dm_relays(alice, outbox, runtime):
    events = await outbox(alice.merchant["id"])
    assert kinds(events) == [0, 10050]
    profile, dm_relays = events[0][1], events[1][1]
    assert profile.pubkey == alice.merchant["public_key"]
    # shopstr_donation 0: Shopstr buyers send the whole price (README, Shopstr and Conduit)
    assert json.loads(profile.content) == {"name": "Alice", "shopstr_donation": 0}
    assert dm_relays.tags == [["relay", url] for url in runtime.relays]


async def test_stall_is_published_as_kind_30017_with_d_tag_and_nip15_content(alice, outbox):
    zone = await alice.zone(name="EU", cost="2.5", countries=["DE"])
    stall = await alice.stall(zone)
    purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert (purpose, event.kind, event.tags) == ("stall", 30017, [["d", stall["id"]]])
    assert event.pubkey == alice.merchant["public_key"]
    assert event.id == stall["event_id"] == stall["publication"]["event_id"]
    assert json.loads(event.content) == {
        "id": stall["id"],
        "name": "Tea stall",
        "description": "Loose leaf tea",
        "currency": "sat",
        "shipping": [{"id": zone["id"], "name": "EU", "cost": 2.5, "regions": ["DE"]}],
    }


async def test_product_is_published_as_kind_30018_with_categories_and_stall_address(alice, outbox):
    product = await alice.product()
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    pubkey = alice.merchant["public_key"]
    assert event.kind == 30018
    assert event.tags == [
        ["d", product["id"]],
        ["t", "tea"],
        ["t", "green"],
        ["a", f"30017:{pubkey}:{product['stall_id']}"],
    ]
    zone_id = product["config"]["shipping"][0]["id"]
    assert json.loads(event.content) == {
        "id": product["id"],
        "stall_id": product["stall_id"],
        "name": "Sencha",
        "description": "Steamed green tea",
        "images": ["https://example.com/sencha.jpg"],
        "currency": "sat",
        "price": 12.5,
        "quantity": 10,
        "specs": [],
        "shipping": [{"id": zone_id, "cost": 1}],
    }


async def test_product_specs_are_published(alice, outbox):
    stall = await alice.stall()
    zone_id = stall["shipping_zones"][0]["id"]
    await alice.product(
        stall, config={"specs": [["origin", "Japan"]], "shipping": [{"id": zone_id, "cost": 0}]}
    )
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert json.loads(event.content)["specs"] == [["origin", "Japan"]]


async def test_each_republish_of_an_object_is_dated_after_the_last(alice, client, outbox):
    product = await alice.product()
    for quantity in (9, 8, 7):
        response = await client.patch(
            f"/api/v1/product/{product['id']}", json={"quantity": quantity}, headers=alice.admin
        )
        assert response.status_code == 200
    events = [e for _p, e in await outbox(alice.merchant["id"]) if e.kind == 30018]
    stamps = [event.created_at for event in events]
    assert stamps == sorted(set(stamps)) and len(stamps) == 4
    assert json.loads(events[-1].content)["quantity"] == 7


async def test_deleting_a_stall_publishes_one_nip09_deletion_for_it_and_its_products(
    alice, client, outbox
):
    product = await alice.product()
    stall_id = product["stall_id"]
    stall = (await client.get(f"/api/v1/stall/{stall_id}", headers=alice.reader)).json()
    response = await client.delete(f"/api/v1/stall/{stall_id}", headers=alice.admin)
    assert response.status_code == 204
    purpose, event = (await outbox(alice.merchant["id"]))[-1]
    pubkey = alice.merchant["public_key"]
    assert (purpose, event.kind) == ("deletion", 5)
    assert ["a", f"30017:{pubkey}:{stall_id}"] in event.tags
    assert ["a", f"30018:{pubkey}:{product['id']}"] in event.tags
    assert ["e", stall["event_id"]] in event.tags
    assert ["e", product["event_id"]] in event.tags
    assert ["k", "30017"] in event.tags and ["k", "30018"] in event.tags
    assert event.created_at > max(stall["event_created_at"], product["event_created_at"]) - 1


async def test_deactivating_a_product_publishes_a_deletion_and_reactivating_republishes(
    alice, client, outbox
):
    product = await alice.product()
    path = f"/api/v1/product/{product['id']}"
    await client.patch(path, json={"active": False}, headers=alice.admin)
    _purpose, deletion = (await outbox(alice.merchant["id"]))[-1]
    assert deletion.kind == 5
    pubkey = alice.merchant["public_key"]
    assert deletion.tag_values("a") == [f"30018:{pubkey}:{product['id']}",
                                        f"30402:{pubkey}:{product['id']}"]  # fmt: skip
    await client.patch(path, json={"active": True}, headers=alice.admin)
    _purpose, again = (await outbox(alice.merchant["id"]))[-1]
    assert again.kind == 30018 and again.created_at > deletion.created_at


async def test_changing_a_zone_republishes_the_stalls_that_ship_to_it(alice, client, outbox):
    stall = await alice.stall()
    zone_id = stall["shipping_zones"][0]["id"]
    response = await client.patch(
        f"/api/v1/zone/{zone_id}", json={"cost": "7"}, headers=alice.admin
    )
    assert response.status_code == 200
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert event.kind == 30017
    assert json.loads(event.content)["shipping"][0]["cost"] == 7


async def test_changing_the_profile_publishes_kind_0_with_merged_fields(alice, client, outbox):
    path = f"/api/v1/merchant/{alice.merchant['id']}"
    body = {"config": {"about": "Tea from Japan", "website": "https://tea.example"}}
    response = await client.patch(path, json=body, headers=alice.admin)
    assert response.status_code == 200
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert event.kind == 0
    assert json.loads(event.content) == {
        "name": "Alice",
        "about": "Tea from Japan",
        "website": "https://tea.example",
        "shopstr_donation": 0,
    }


async def test_changing_relays_publishes_kind_10050(alice, client, outbox):
    path = f"/api/v1/merchant/{alice.merchant['id']}"
    relays = ["wss://relay.example.com", "wss://nos.example.org"]
    response = await client.patch(path, json={"relays": relays}, headers=alice.admin)
    assert response.json()["relays"] == relays
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert event.kind == 10050
    assert event.tag_values("relay") == relays


async def test_every_queued_event_is_signed_by_the_merchant_key(alice, bob, outbox):
    await alice.product()
    await bob.product()
    for shop in (alice, bob):
        events = await outbox(shop.merchant["id"])
        assert events and {e.pubkey for _p, e in events} == {shop.merchant["public_key"]}
