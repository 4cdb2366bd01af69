"""NIP-17 replies are sealed before the order's transaction; the transaction must use a
presealed reply only when it sends exactly that content with exactly that timestamp."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nostrbazaar.services import intake, outgoing
from support.orders_fixtures import Customer, Shop, place


def _wrapped_rumor(customer: Customer, event: dict[str, Any]) -> dict[str, Any]:
    import nostr_sdk as sdk

    gift = sdk.UnwrappedGift.from_gift_wrap(customer.keys, sdk.Event.from_json(json.dumps(event)))
    rumor: dict[str, Any] = json.loads(gift.rumor().as_json())
    return rumor


async def test_the_presealed_payment_request_is_the_one_queued(
    shop: Shop, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    presealed: list[outgoing.Presealed] = []
    original = outgoing.preseal

    async def keep(*args: Any, **kwargs: Any) -> outgoing.Presealed:
        made = await original(*args, **kwargs)
        presealed.append(outgoing.Presealed(dict(made.envelopes)))
        return made

    monkeypatch.setattr(intake, "preseal", keep)
    verdict = await place(shop, customer, "o-1", transport="nip17")
    assert verdict.verdict == "processed"
    [sealed] = presealed
    [envelope] = sealed.envelopes.values()
    queued = {row["event"]["id"] for row in await shop.outbox("o-1")}
    assert {event.id for event in envelope.events} == queued  # no second sealing


async def test_a_presealed_reply_with_another_timestamp_is_not_used(
    shop: Shop, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = outgoing.preseal

    async def a_second_early(*args: Any, **kwargs: Any) -> outgoing.Presealed:
        args = (*args[:-1], args[-1] - 1)  # sealed as if sent one second earlier
        return await original(*args, **kwargs)

    monkeypatch.setattr(intake, "preseal", a_second_early)
    await place(shop, customer, "o-1", transport="nip17")
    [stored] = await shop.db.fetchall(
        "SELECT created_at FROM direct_messages WHERE order_id = 'o-1' AND direction = 'out'"
    )
    [wrap] = [
        row["event"]
        for row in await shop.outbox("o-1")
        if ["p", customer.pubkey] in row["event"]["tags"]
    ]
    rumor = _wrapped_rumor(customer, wrap)
    assert rumor["created_at"] == stored["created_at"]  # sealed again, with the right stamp
    assert json.loads(rumor["content"])["type"] == 1  # the payment request
