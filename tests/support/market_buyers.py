"""Shopstr and Conduit buyers driven by nostr-sdk (an independent implementation).

Each message is built as the client's own code builds it:

- Shopstr (shopstr-eng/shopstr): `utils/nostr/gift-wrap.ts` (`constructGiftWrappedEvent`:
  kind 14, `p` with a relay hint, `subject`, `order`, `b`, `type`, `amount`,
  `payment`, `donation_amount`, `item`; `constructMessageSeal` and
  `constructMessageGiftWrap`: the seal signed by the random per-checkout key, not the
  buyer's), `components/product-invoice-card.tsx` (`sendTokens` and
  `sendPaymentAndContactMessage`: an `order-payment` of type 2 with the token, or
  with the lightning address after melting, then an `order-info` of type 1 with the
  address) and `utils/payments/checkout-messages.ts` (the texts).
- Conduit (Conduit-BTC/conduit-mono): `apps/market/src/routes/checkout.tsx`
  (`placeOrder`: kind 16, `p`, `type` `order`, `order`, `amount`, `currency`, one
  `item` per line with its `shipping`, a JSON payload), `apps/market/src/lib/
  order-publish.ts` (`buildPaymentProofRumor`) with `packages/core/src/protocol/
  orders.ts` (`buildLightningPaymentProofMessage`: invoice, preimage at the top), and
  `docs/specs/protocol.md` (the buyer's `status_update` `cancelled`).
"""

from __future__ import annotations

import json
from typing import Any

import nostr_sdk as sdk
from support.gamma_buyer import GammaBuyer, Tags

RELAY_HINT = "wss://relay.damus.io"


class ShopstrBuyer(GammaBuyer):
    """A signed-in Shopstr buyer: `keys` is the buyer, `checkout` the random sender key."""

    def __init__(self) -> None:
        super().__init__()
        self.checkout = sdk.Keys.generate()

    def _tags(self, merchant: str, subject: str, order_id: str, type_: int) -> Tags:
        return [["p", merchant, RELAY_HINT], ["subject", subject], ["order", order_id],
                ["b", self.pubkey], ["type", str(type_)]]  # fmt: skip

    def payment(
        self, merchant: str, order_id: str, product: str, sats: int, method: str,
        reference: str, donation: int = 0,
    ) -> tuple[Tags, str]:  # fmt: skip
        """`order-payment` (type 2): `buildPaymentEventOptions`, `buildEcashPaymentMessage`."""
        tags = [*self._tags(merchant, "order-payment", order_id, 2), ["amount", str(sats)],
                ["payment", method, reference]]  # fmt: skip
        if donation:
            tags.append(["donation_amount", str(donation), "2.1"])
        tags.append(["item", f"30402:{merchant}:{product}", "1"])
        if method == "ecash":
            text = (f"This is a Cashu token payment from {self.npub} for your Tea listing on "
                    f"Shopstr: {reference}")  # fmt: skip
        else:
            text = (
                f"You have received a payment from {self.npub} for your Tea listing on "
                f"Shopstr! Check your Lightning address ({reference}) for your sats."
            )
        return tags, text

    def order_info(self, merchant: str, order_id: str, product: str, sats: int) -> tuple[Tags, str]:
        """`order-info` (type 1) with the address tag (`buildShippingAddressTag`)."""
        address = "Ann Buyer, 1 Road, Lisbon, Lisboa, 1000-001, Portugal"
        tags = [*self._tags(merchant, "order-info", order_id, 1), ["amount", str(sats)],
                ["address", address], ["item", f"30402:{merchant}:{product}", "1"]]  # fmt: skip
        text = ("Please ship the product to Ann Buyer at 1 Road, Lisbon, Lisboa, 1000-001, "
                "Portugal.")  # fmt: skip
        return tags, text

    @property
    def npub(self) -> str:
        return str(self.keys.public_key().to_bech32())

    def wrapped(self, merchant: str, kind: int, tags: Tags, content: str = "") -> dict[str, Any]:
        """Rumor and seal by the checkout key (Shopstr's `randomPrivkey`), wrapped."""
        builder = sdk.EventBuilder(sdk.Kind(kind), content).tags([sdk.Tag.parse(t) for t in tags])
        rumor = builder.finalize_unsigned(self.checkout.public_key())
        wrap = sdk.nip59_make_gift_wrap(self.checkout, sdk.PublicKey.parse(merchant), rumor)
        return dict(json.loads(wrap.as_json()))


class ConduitBuyer(GammaBuyer):
    """A signed-in Conduit Market buyer."""

    def order(
        self, merchant: str, order_id: str, items: list[tuple[str, int]], sats: int,
        shipping: str | None = "zone-1",
    ) -> tuple[Tags, str]:  # fmt: skip
        tags = [["p", merchant], ["type", "order"], ["order", order_id], ["amount", str(sats)],
                ["currency", "SATS"]]  # fmt: skip
        for pid, qty in items:
            tags.append(["item", f"30402:{merchant}:{pid}", str(qty)])
            if shipping:
                tags.append(["shipping", f"30406:{merchant}:{shipping}"])
        tags.append(["client", "conduit-market"])
        payload = {
            "id": order_id, "merchantPubkey": merchant, "buyerPubkey": self.pubkey,
            "buyerIdentityKind": "signed_in",
            "items": [{"productId": f"30402:{merchant}:{pid}", "quantity": qty,
                       "priceAtPurchase": 100, "currency": "SATS"} for pid, qty in items],
            "subtotal": sats, "currency": "SATS", "shippingCostStatus": "priced",
            "shippingAddress": {"name": "Ann Buyer", "street": "1 Road", "city": "Lisbon",
                                "postalCode": "1000-001", "country": "PT"},
            "note": "Contact: ann@example.com", "createdAt": 1_796_600_000_000,
        }  # fmt: skip
        return tags, json.dumps(payload)

    def payment_proof(
        self, merchant: str, order_id: str, sats: int, invoice: str, preimage: str
    ) -> tuple[Tags, str]:
        tags = [["p", merchant], ["type", "payment_proof"], ["order", order_id],
                ["amount", str(sats)], ["currency", "SAT"], ["rail", "lightning"],
                ["client", "conduit-market"]]  # fmt: skip
        content = {
            "version": 1, "rail": "lightning", "verification": {
                "state": "buyer_evidence_received", "checkedAt": 1_796_600_000, "checks": []},
            "orderId": order_id, "action": "invoice", "amount": sats, "amountMsats": sats * 1000,
            "currency": "SAT", "invoice": invoice, "preimage": preimage, "source": "wallet",
        }  # fmt: skip
        return tags, json.dumps(content)

    def cancel(self, merchant: str, order_id: str) -> tuple[Tags, str]:
        tags = [["p", merchant], ["type", "status_update"], ["order", order_id],
                ["status", "cancelled"]]  # fmt: skip
        return tags, json.dumps({"status": "cancelled", "note": "changed my mind"})

    def repost(self, merchant: str) -> tuple[Tags, str]:
        """A NIP-18 generic repost: kind 16 too, with neither `type` nor `order`."""
        return [["p", merchant], ["k", "30402"]], ""


def json_content(rumor: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(rumor["content"]))
