"""Our BOLT11 reader against the BOLT #11 spec example, the `bolt11` package, and damage."""

from __future__ import annotations

import hashlib
import os

import bolt11 as bolt11_lib
import pytest
from nostrbazaar.nostr.secp import EcdsaKey
from nostrbazaar.wallets.invoice_codec import (
    InvoiceDecodeError,
    InvoiceFields,
    decode_invoice,
    encode_invoice,
)

# BOLT #11, "Examples": a donation of any amount, signed by the spec's example node key.
SPEC_DONATION = (
    "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzq"
    "fqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6"
    "rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsr"
    "vywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql"
)
SPEC_NODE = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"


def test_the_spec_example_reads_as_the_spec_says() -> None:
    decoded = decode_invoice(SPEC_DONATION)
    assert decoded.currency == "bc"
    assert decoded.amount_msat is None
    assert decoded.timestamp == 1496314658
    assert (
        decoded.payment_hash == "0001020304050607080900010203040506070809000102030405060708090102"
    )
    assert decoded.payment_secret == "11" * 32
    assert decoded.description == "Please consider supporting this project"
    assert decoded.expiry == 3600
    assert decoded.payee == SPEC_NODE


def _minted(amount_msat: int, memo: str, expiry: int) -> tuple[str, EcdsaKey, bytes]:
    key = EcdsaKey(os.urandom(32))
    payment_hash = hashlib.sha256(os.urandom(32)).digest()
    fields = InvoiceFields(amount_msat, payment_hash, os.urandom(32), memo, 1_790_000_000, expiry)
    return encode_invoice(fields, key), key, payment_hash


@pytest.mark.parametrize(
    ("amount_msat", "memo", "expiry"),
    [(1, "", 60), (2_500_000, "Order 42: tea", 3600), (123_456_789, "ünïcødé ☕", 86_400)],
)
def test_our_reading_agrees_with_the_bolt11_package(
    amount_msat: int, memo: str, expiry: int
) -> None:
    text, key, payment_hash = _minted(amount_msat, memo, expiry)
    ours, theirs = decode_invoice(text), bolt11_lib.decode(text)
    assert ours.payment_hash == theirs.payment_hash == payment_hash.hex()
    assert ours.amount_msat == theirs.amount_msat == amount_msat
    assert ours.timestamp == theirs.date
    assert ours.expiry == theirs.expiry == expiry
    assert ours.description == theirs.description == memo
    assert ours.payee == key.public_key.hex()


def test_a_damaged_invoice_is_refused() -> None:
    text, _, _ = _minted(1_000, "x", 600)
    flipped = text[:-10] + ("q" if text[-10] != "q" else "p") + text[-9:]
    with pytest.raises(InvoiceDecodeError, match="checksum"):
        decode_invoice(flipped)
    with pytest.raises(InvoiceDecodeError):
        decode_invoice("lnbc1notaninvoice")


def test_skipping_the_signature_reads_the_same_fields_without_a_payee() -> None:
    quick = decode_invoice(SPEC_DONATION, recover_payee=False)
    full = decode_invoice(SPEC_DONATION)
    assert quick.payee == ""
    assert (quick.payment_hash, quick.timestamp, quick.expiry) == (
        full.payment_hash, full.timestamp, full.expiry,
    )  # fmt: skip
