"""Parsing Shopstr and Conduit messages, and telling the dialects apart by shape.

Shapes from shopstr-eng/shopstr `utils/nostr/gift-wrap.ts` (`constructGiftWrappedEvent`)
and Conduit-BTC/conduit-mono `packages/core/src/protocol/messaging.ts`
(`classifyLegacyOrderRumor`) and `docs/specs/protocol.md`.
"""

from __future__ import annotations

import json

import pytest
from nostrbazaar.market import dialect
from nostrbazaar.market.conduit import Ignored
from nostrbazaar.market.gamma import BuyerCancel, Receipt
from nostrbazaar.market.nip15 import MessageError, OrderMessage, PlainText, StatusUpdate
from nostrbazaar.market.shopstr import ShopstrCheckout, ShopstrDetails, redact, required_msat

M = "ab" * 32
B = "cd" * 32


def shopstr(subject: str, *extra: list[str]) -> list[list[str]]:
    return [["p", M, "wss://r"], ["subject", subject], ["order", "o-1"], ["b", B], *extra]


def test_kind_14_with_a_shopstr_subject_is_shopstr_and_other_kind_14_is_chat() -> None:
    assert dialect.dialect_of_rumor(14, shopstr("order-payment")) == "shopstr"
    assert dialect.dialect_of_rumor(14, [["p", M], ["subject", "hello"]]) == "nip15"
    assert dialect.dialect_of_rumor(14, [["p", M], ["subject", "order-info"]]) == "nip15"


def test_kind_16_is_conduit_by_its_word_types_and_gamma_by_its_numbers() -> None:
    assert dialect.dialect_of_rumor(16, [["type", "order"], ["order", "x"]]) == "conduit"
    assert dialect.dialect_of_rumor(16, [["type", "1"], ["order", "x"]]) == "gamma"
    assert dialect.dialect_of_rumor(16, [["p", M], ["k", "1"]]) == "conduit"  # a repost
    read = dialect.read_rumor(16, [["p", M], ["k", "1"]], "", M, False)
    assert isinstance(read.message, Ignored)


def test_an_ecash_checkout_is_an_order_with_its_payment_and_buyer() -> None:
    tags = shopstr("order-payment", ["type", "2"], ["amount", "104"],
                   ["payment", "ecash", "cashuBxyz"], ["donation_amount", "3", "2.1"],
                   ["item", f"30402:{M}:p1", "1"])  # fmt: skip
    read = dialect.read_rumor(14, tags, "token: cashuBxyzxyzxyzxyzxyzxyzxyzxyz", M, False)
    msg = read.message
    assert isinstance(msg, ShopstrCheckout) and isinstance(msg, OrderMessage)
    assert (read.dialect, read.buyer, msg.buyer) == ("shopstr", B, B)
    assert (msg.paid_msat, msg.donation_msat, msg.amount_msat) == (104_000, 3000, None)
    assert msg.payment is not None and (msg.payment.method, msg.payment.reference) == (
        "ecash", "cashuBxyz")  # fmt: skip
    assert msg.address_follows and msg.shipping_id == "" and msg.items[0].product_id == "p1"


def test_a_checkout_with_another_payment_method_or_no_amount_is_refused() -> None:
    base = shopstr("order-payment", ["item", f"30402:{M}:p1", "1"])
    with pytest.raises(MessageError, match="not taken here"):
        dialect.read_rumor(14, [*base, ["amount", "5"], ["payment", "nwc", "x"]], "", M, False)
    with pytest.raises(MessageError, match="amount"):
        dialect.read_rumor(14, [*base, ["payment", "ecash", "x"]], "", M, False)


def test_order_info_gives_delivery_details_and_our_own_confirmation_reads_back_as_paid() -> None:
    info = dialect.read_rumor(14, shopstr("order-info", ["address", "1 Road"]), "ship", M, False)
    assert isinstance(info.message, ShopstrDetails) and info.message.address == "1 Road"
    ours = dialect.read_rumor(14, shopstr("order-info", ["status", "confirmed"]), "", M, True)
    assert ours.message == StatusUpdate("o-1", True, False, "", "paid")


def test_a_token_in_the_text_is_not_kept() -> None:
    assert (
        redact("pay: cashuBo2F0gqJhaUgA_9SLj17PgGFwgaNhYQFhc3 thanks")
        == "pay: [cashu token] thanks"
    )


def test_a_real_shopstr_checkout_is_never_short() -> None:
    """`splitDonationAndSellerAmount` then `Math.floor(sellerAmount * 0.98 - 2)`."""
    for total in (1, 7, 99, 107, 1000, 12_345, 99_999):
        donation = -(-(total * 21) // 1000)
        seller = total - donation
        assert seller * 1000 >= required_msat(total * 1000, donation * 1000, "ecash")
        melted = max(0, int(seller * 0.98 - 2))
        assert melted * 1000 >= required_msat(total * 1000, donation * 1000, "lightning")
    assert required_msat(107_000, 50_000, "ecash") == 103_000  # a donation over 2.1% is capped


def conduit_order(**payload: object) -> tuple[list[list[str]], str]:
    tags = [["p", M], ["type", "order"], ["order", "c-1"], ["amount", "209"],
            ["item", f"30402:{M}:p1", "2"], ["shipping", f"30406:{M}:z1"]]  # fmt: skip
    return tags, json.dumps({"id": "c-1", "note": "hi", **payload})


def test_a_conduit_order_reads_its_json_address_and_contact() -> None:
    tags, content = conduit_order(
        shippingAddress={"name": "Ann", "street": "1 Road", "city": "Lisbon",
                         "postalCode": "1000", "country": "PT"},
        guestContact={"email": "a@b", "phone": "1"})  # fmt: skip
    msg = dialect.read_rumor(16, tags, content, M, False).message
    assert isinstance(msg, OrderMessage)
    assert (msg.shipping_id, msg.address, msg.name, msg.message) == (
        "z1", "1 Road, Lisbon, 1000, PT", "Ann", "hi")  # fmt: skip
    assert (msg.contact, msg.amount_msat) == ({"email": "a@b", "phone": "1"}, 209_000)


def test_conduit_content_that_is_not_json_refuses_the_order() -> None:
    tags, _ = conduit_order()
    with pytest.raises(MessageError, match="JSON object") as error:
        dialect.read_rumor(16, tags, "not json", M, False)
    assert error.value.order_id == "c-1"


def test_a_conduit_proof_is_a_receipt_and_a_cancel_is_the_buyers() -> None:
    proof = [["p", M], ["type", "payment_proof"], ["order", "c-1"]]
    read = dialect.read_rumor(16, proof, json.dumps({"invoice": "lnbc1x", "preimage": "00"}),
                              M, False)  # fmt: skip
    assert read.message == Receipt("c-1", "lnbc1x", "00", None, "")
    nested = json.dumps({"proof": {"payment_hash": "AB" * 32}})
    assert dialect.read_rumor(16, proof, nested, M, False).message.payment_hash == "ab" * 32
    cancel = [["p", M], ["type", "status_update"], ["order", "c-1"], ["status", "cancelled"]]
    assert isinstance(dialect.read_rumor(16, cancel, "{}", M, False).message, BuyerCancel)
    note = [["p", M], ["type", "message"], ["order", "c-1"]]
    assert dialect.read_rumor(16, note, json.dumps({"note": "hello"}), M, False).message == (
        PlainText("hello"))  # fmt: skip
