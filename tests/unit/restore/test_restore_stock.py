"""Stock lent to orders restored on a recovered catalogue: what stays and what is taken
back, from the order's reservation state and when its invoice was made (pure)."""

from __future__ import annotations

from nostrbazaar.engine.restore.stock import Loan, loan_for, to_take_back
from nostrbazaar.market.nip15 import PaymentRequest, StatusUpdate
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.secp import EcdsaKey as NodeKey
from nostrbazaar.orders.state import OrderItem
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.deps import Merchant
from nostrbazaar.services.intake import ParkedReply
from nostrbazaar.wallets.invoice_codec import InvoiceFields, encode_invoice

KEY = PrivateKey.generate()
MERCHANT = Merchant("m", KEY.public_key, KEY)
NODE = NodeKey()
PUBLISHED = 1_000  # the recovered product's 30018
PUBLISHED_AT = {"tea": PUBLISHED, "cup": PUBLISHED + 50}


def reply(stamp: int, message: PaymentRequest | StatusUpdate) -> ParkedReply:
    incoming = Incoming(MERCHANT, f"e{stamp}", f"r{stamp}", "c", True, "nip04", stamp, "{}")
    return ParkedReply(incoming.inbox_id or "", incoming, message)


def invoice(made: int, stamp: int | None = None) -> ParkedReply:
    """A payment request stamped `stamp` carrying an invoice the wallet made at `made`."""
    fields = InvoiceFields(1000, bytes(32), bytes(32), "order o", made, 3600)
    bolt11 = encode_invoice(fields, NODE)
    return reply(made if stamp is None else stamp, PaymentRequest("o", (("ln", bolt11),)))


def loan(reserved_at: int, released: bool = False) -> Loan:
    return Loan("o", {"tea": 2}, reserved_at, released)


def test_an_order_answered_with_an_invoice_borrows_its_units_of_recovered_products() -> None:
    items = [OrderItem("tea", 1), OrderItem("gone", 4), OrderItem("tea", 2)]
    made = loan_for("o", items, [invoice(900), invoice(950)], PUBLISHED_AT)
    assert made == Loan("o", {"tea": 3}, 950)  # the last invoice: a reissue reserves again


def test_the_reservation_is_dated_by_the_invoice_not_by_the_message_stamp() -> None:
    # a busy conversation stamps the merchant's messages seconds ahead of the clock
    made = loan_for("o", [OrderItem("tea", 1)], [invoice(998, stamp=1003)], PUBLISHED_AT)
    assert made is not None and made.reserved_at == 998
    assert to_take_back(made, {"tea": "held"}, PUBLISHED_AT) == {}


def test_an_order_never_sent_a_readable_invoice_borrows_nothing() -> None:
    refused = reply(900, PaymentRequest("o", (), "Order o refused: out of stock"))
    garbage = reply(901, PaymentRequest("o", (("ln", "lnbc1garbage"),)))
    assert loan_for("o", [OrderItem("tea", 1)], [refused, garbage], PUBLISHED_AT) is None
    assert loan_for("o", [OrderItem("tea", 1)], [], PUBLISHED_AT) is None


def test_an_order_of_products_not_recovered_borrows_nothing() -> None:
    assert loan_for("o", [OrderItem("gone", 1)], [invoice(900)], PUBLISHED_AT) is None


def test_the_merchants_expiry_or_cancellation_is_noted() -> None:
    expired = reply(990, StatusUpdate("o", False, False, "expired", "expired"))
    paid = reply(995, StatusUpdate("o", True, False, "paid", "paid"))
    made = loan_for("o", [OrderItem("tea", 1)], [invoice(900), expired, paid], PUBLISHED_AT)
    assert made is not None and made.released
    unpaid = loan_for("o", [OrderItem("tea", 1)], [invoice(900), paid], PUBLISHED_AT)
    assert unpaid is not None and not unpaid.released


def test_a_reservation_before_the_publication_is_paid_for_by_the_loan() -> None:
    assert to_take_back(loan(PUBLISHED - 5), {"tea": "held"}, PUBLISHED_AT) == {}
    assert to_take_back(loan(PUBLISHED - 5), {"tea": "sold"}, PUBLISHED_AT) == {}


def test_a_reservation_in_the_second_of_the_publication_counts_as_before_it() -> None:
    assert to_take_back(loan(PUBLISHED), {"tea": "held"}, PUBLISHED_AT) == {}


def test_a_reservation_after_the_publication_is_taken_back() -> None:
    assert to_take_back(loan(PUBLISHED + 1), {"tea": "held"}, PUBLISHED_AT) == {"tea": 2}
    # sold after a publication that never reached the relays: live stock was lower too
    assert to_take_back(loan(PUBLISHED + 1), {"tea": "sold"}, PUBLISHED_AT) == {"tea": 2}


def test_a_release_the_merchant_announced_is_taken_back() -> None:
    for reserved_at in (PUBLISHED - 9, PUBLISHED + 1):
        announced = loan(reserved_at, released=True)
        assert to_take_back(announced, {"tea": "released"}, PUBLISHED_AT) == {"tea": 2}


def test_a_release_by_this_restore_keeps_a_loan_the_publication_lacked() -> None:
    assert to_take_back(loan(PUBLISHED - 9), {"tea": "released"}, PUBLISHED_AT) == {}
    assert to_take_back(loan(PUBLISHED + 1), {"tea": "released"}, PUBLISHED_AT) == {"tea": 2}


def test_an_order_that_took_no_stock_gives_the_whole_loan_back() -> None:
    assert to_take_back(loan(PUBLISHED - 5), {}, PUBLISHED_AT) == {"tea": 2}


def test_each_product_is_judged_against_its_own_publication() -> None:
    both = Loan("o", {"tea": 1, "cup": 3}, PUBLISHED + 10)
    states = {"tea": "held", "cup": "held"}
    assert to_take_back(both, states, PUBLISHED_AT) == {"tea": 1}
