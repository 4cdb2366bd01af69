"""A Gamma market spec buyer driven by nostr-sdk (an independent implementation).

It builds kind 16 / 17 rumors with nostr-sdk's `EventBuilder`, gift-wraps them with
its NIP-59 API (or signs them as public events, as Plebeian Market still does for
some), and unwraps the merchant's answers. The shapes are modelled on:

- the spec (`../shared/specs/gamma/market-spec.md`, "Order Creation", "Payment
  Receipt", "Order Status Updates"): `spec_order`;
- Plebeian Market (PlebeianApp/market): `plebeian_order` on
  `src/lib/orders/privateOrderMessage.ts` (`createPrivateOrderDetailsRumor`: `name`,
  a newline-joined address, empty content), `plebeian_marker` on
  `src/publish/orders.tsx` (`createOrderCreationEventWithOrderId`: the public marker,
  no address), `plebeian_receipt` on `src/publish/payment.tsx`
  (`publishPaymentReceipt`: `external-payment` when the wallet gave no preimage) and
  `src/lib/orders/orderMessageRumor.ts` (`createPaymentReceiptRumor`),
  `plebeian_cancel` on `src/publish/orders.tsx` (`updateOrderStatus`).
"""

from __future__ import annotations

import json
from typing import Any

import nostr_sdk as sdk

Tags = list[list[str]]


def tag(rumor: dict[str, Any], name: str) -> list[str] | None:
    """The first tag called `name` of a rumor (as a dict), if any."""
    return next((t for t in rumor["tags"] if t and t[0] == name), None)


def value(rumor: dict[str, Any], name: str) -> str | None:
    found = tag(rumor, name)
    return found[1] if found and len(found) > 1 else None


class GammaBuyer:
    def __init__(self) -> None:
        self.keys = sdk.Keys.generate()

    @property
    def pubkey(self) -> str:
        return str(self.keys.public_key().to_hex())

    # -- what the buyer says ------------------------------------------------------------------

    def spec_order(
        self, merchant: str, order_id: str, items: list[tuple[str, int]], amount: int,
        shipping: str = "zone-1", address: str | None = "1 Road, Lisbon", notes: str = "",
    ) -> Tags:  # fmt: skip
        """Type 1 as the spec's example writes it (email and phone included)."""
        tags = [["p", merchant], ["subject", "order-info"], ["type", "1"], ["order", order_id],
                ["amount", str(amount)]]  # fmt: skip
        tags += [["item", f"30402:{merchant}:{pid}", str(qty)] for pid, qty in items]
        tags.append(["shipping", f"30406:{merchant}:{shipping}"])
        if address is not None:
            tags.append(["address", address])
        return [*tags, ["email", "buyer@example.com"], ["phone", "+351 000 000"]]

    def plebeian_order(
        self, merchant: str, order_id: str, items: list[tuple[str, int]], amount: int,
        shipping: str = "zone-1",
    ) -> Tags:  # fmt: skip
        """Plebeian's gift-wrapped order details (`createPrivateOrderDetailsRumor`)."""
        tags = [["p", merchant], ["subject", "order-info"], ["type", "1"], ["order", order_id],
                ["amount", str(amount)]]  # fmt: skip
        tags += [["item", f"30402:{merchant}:{pid}", str(qty)] for pid, qty in items]
        address = "\n".join(["1 Road", "", "Lisbon", "1000-001", "PT"])
        return [*tags, ["shipping", f"30406:{merchant}:{shipping}"], ["name", "Ann Buyer"],
                ["address", address], ["email", "ann@example.com"]]  # fmt: skip

    def plebeian_marker(self, merchant: str, order_id: str, items: list[tuple[str, int]],
                        amount: int) -> dict[str, Any]:  # fmt: skip
        """Plebeian's public, signed kind 16 type 1 (no address), beside the wrapped details."""
        tags = [["p", merchant], ["subject", "order-info"], ["type", "1"], ["order", order_id],
                ["amount", str(amount)]]  # fmt: skip
        tags += [["item", f"30402:{merchant}:{pid}", str(qty)] for pid, qty in items]
        tags.append(["shipping", f"30406:{merchant}:zone-1"])
        return self.public(16, tags, "Order created")

    def plebeian_receipt(self, merchant: str, order_id: str, bolt11: str, amount: int,
                         proof: str = "external-payment") -> Tags:  # fmt: skip
        return [["p", merchant], ["subject", "order-receipt"], ["order", order_id],
                ["payment", "lightning", bolt11, proof], ["amount", str(amount)]]  # fmt: skip

    def plebeian_cancel(self, merchant: str, order_id: str) -> Tags:
        return [["p", merchant], ["subject", "order-info"], ["type", "3"], ["order", order_id],
                ["status", "cancelled"]]  # fmt: skip

    # -- how it is sent -----------------------------------------------------------------------

    def rumor(self, kind: int, tags: Tags, content: str = "") -> sdk.UnsignedEvent:
        builder = sdk.EventBuilder(sdk.Kind(kind), content).tags([sdk.Tag.parse(t) for t in tags])
        return builder.finalize_unsigned(self.keys.public_key())

    def wrapped(self, merchant: str, kind: int, tags: Tags, content: str = "") -> dict[str, Any]:
        """The rumor gift-wrapped to the merchant (nostr-sdk's NIP-59), as a JSON dict."""
        rumor = self.rumor(kind, tags, content)
        wrap = sdk.nip59_make_gift_wrap(self.keys, sdk.PublicKey.parse(merchant), rumor)
        return dict(json.loads(wrap.as_json()))

    def public(self, kind: int, tags: Tags, content: str = "") -> dict[str, Any]:
        """A signed, public event (Plebeian's marker, its legacy receipts and status updates)."""
        builder = sdk.EventBuilder(sdk.Kind(kind), content).tags([sdk.Tag.parse(t) for t in tags])
        return dict(json.loads(builder.finalize(self.keys).as_json()))

    # -- what the merchant answers ------------------------------------------------------------

    def read(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The rumor inside a gift wrap to this buyer, as a dict (None if not to us)."""
        if event["kind"] != 1059 or ["p", self.pubkey] not in event["tags"]:
            return None
        gift = sdk.UnwrappedGift.from_gift_wrap(self.keys, sdk.Event.from_json(json.dumps(event)))
        rumor = dict(json.loads(gift.rumor().as_json()))
        rumor["sender"] = gift.sender().to_hex()
        return rumor

    async def inbox(self, shop: Any, order_id: str | None = None) -> list[dict[str, Any]]:
        """Every rumor the shop queued for this buyer, unwrapped, oldest first."""
        opened = [self.read(row["event"]) for row in await shop.outbox(order_id)]
        return sorted((r for r in opened if r), key=lambda r: r["created_at"])


def kinds_and_types(rumors: list[dict[str, Any]]) -> list[tuple[int, str | None, str | None]]:
    """(kind, type, status) of each rumor: the shape of a conversation at a glance."""
    return [(r["kind"], value(r, "type"), value(r, "status")) for r in rumors]
