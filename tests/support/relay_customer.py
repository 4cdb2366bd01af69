"""A customer on real relays, through nostr-sdk's Client: publishes orders, reads replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import nostr_sdk as sdk
from support.orders_fixtures import Customer


class RelayCustomer:
    def __init__(self, urls: Sequence[str]) -> None:
        self.me = Customer()
        self.urls = list(urls)
        self.client = sdk.Client()

    @property
    def pubkey(self) -> str:
        return self.me.pubkey

    async def connect(self) -> None:
        for url in self.urls:
            await self.client.add_relay(sdk.RelayUrl.parse(url))
        await self.client.connect(timedelta(seconds=5))

    async def close(self) -> None:
        await self.client.shutdown()

    async def send(self, event: dict[str, Any]) -> None:
        await self.client.send_event(sdk.Event.from_json(json.dumps(event)))

    async def replies(self, merchant_pubkey: str) -> list[Any]:
        """Every message the merchant published to this customer, oldest first."""
        me = sdk.PublicKey.parse(self.pubkey)
        dms = (
            sdk.Filter()
            .kinds([sdk.Kind(4)])
            .author(sdk.PublicKey.parse(merchant_pubkey))
            .pubkey(me)
        )
        wraps = sdk.Filter().kinds([sdk.Kind(1059)]).pubkey(me)
        target = sdk.ReqTarget.auto([dms, wraps])
        events = await self.client.fetch_events(target, timedelta(seconds=2))
        raw = [json.loads(event.as_json()) for event in events]
        opened = [(self._stamp(e), self.me.read(e)) for e in raw]
        return [content for _, content in sorted(opened, key=lambda pair: pair[0])]

    def _stamp(self, event: dict[str, Any]) -> int:
        if event["kind"] != 1059:
            return int(event["created_at"])
        gift = sdk.UnwrappedGift.from_gift_wrap(
            self.me.keys, sdk.Event.from_json(json.dumps(event))
        )
        return int(gift.rumor().created_at().as_secs())

    async def wait_for(
        self, merchant_pubkey: str, ready: Callable[[list[Any]], bool], attempts: int = 100
    ) -> list[Any]:
        """Poll the relays until `ready(replies)` (bounded: about ten seconds at most)."""
        replies: list[Any] = []
        for _ in range(attempts):
            replies = await self.replies(merchant_pubkey)
            if ready(replies):
                return replies
            await asyncio.sleep(0.1)
        raise AssertionError(f"the merchant's replies never arrived: {replies}")


def of_type(replies: list[Any], type_: int) -> list[dict[str, Any]]:
    return [r for r in replies if isinstance(r, dict) and r.get("type") == type_]
