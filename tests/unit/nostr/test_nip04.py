"""NIP-04: AES-256-CBC on the unhashed ECDH x, `base64?iv=base64`, and every way to fail."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from nostrbazaar.nostr import nip04, nip19
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip04 import Nip04Error

ALICE = PrivateKey.from_hex("91ba716fa9e7ea2fcbad360cf4f8e0d312f73984da63d90f524ad61a6a1e7dbe")
BOB = PrivateKey.from_hex("96f6fa197aa07477ab88f6981118466ae3a982faab8ad5db9d5426870c73d220")
# Known answer from go-nostr, as used in nostr-tools' own nip04 tests.
GO_NOSTR_CIPHERTEXT = "zJxfaJ32rN5Dg1ODjOlEew==?iv=EV5bUjcc4OX2Km/zPp4ndQ=="


def test_message_written_by_go_nostr_decrypts():
    assert nip04.decrypt(BOB, ALICE.public_key, GO_NOSTR_CIPHERTEXT) == "nanana"
    assert nip04.decrypt(ALICE, BOB.public_key, GO_NOSTR_CIPHERTEXT) == "nanana"


def test_fixed_iv_gives_the_same_bytes_as_aes_cbc_by_hand():
    iv = bytes(range(16))
    content = nip04.encrypt(ALICE, BOB.public_key, "order #1", iv=iv)
    key = ALICE.ecdh_x(BOB.public_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    by_hand = encryptor.update(b"order #1" + bytes([8]) * 8) + encryptor.finalize()
    assert content == f"{base64.b64encode(by_hand).decode()}?iv={base64.b64encode(iv).decode()}"


@settings(max_examples=60)
@given(st.text(max_size=300))
def test_any_text_round_trips_including_empty_and_block_multiples(text):
    content = nip04.encrypt(ALICE, BOB.public_key, text)
    assert nip04.decrypt(BOB, ALICE.public_key, content) == text


def test_npub_is_accepted_wherever_a_public_key_is():
    content = nip04.encrypt(ALICE, nip19.npub_encode(BOB.public_key), "hi")
    assert nip04.decrypt(BOB, nip19.npub_encode(ALICE.public_key), content) == "hi"


def test_each_message_gets_a_fresh_iv():
    first = nip04.encrypt(ALICE, BOB.public_key, "same")
    assert first != nip04.encrypt(ALICE, BOB.public_key, "same")


def _valid() -> str:
    return nip04.encrypt(ALICE, BOB.public_key, "a message of some length", iv=bytes(16))


def _bad_padding() -> str:
    key = ALICE.ecdh_x(BOB.public_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    block = encryptor.update(b"fifteen bytes!!" + b"\x00") + encryptor.finalize()
    return f"{base64.b64encode(block).decode()}?iv={base64.b64encode(bytes(16)).decode()}"


def _bad_utf8() -> str:
    key = ALICE.ecdh_x(BOB.public_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    block = encryptor.update(b"\xff\xfe not utf8" + bytes([5]) * 5) + encryptor.finalize()
    return f"{base64.b64encode(block).decode()}?iv={base64.b64encode(bytes(16)).decode()}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (_valid().split("?iv=")[0], "no '\\?iv='"),
        ("not*base64?iv=" + _valid().split("?iv=")[1], "ciphertext is not valid base64"),
        (_valid().split("?iv=")[0] + "?iv=AAAA", "iv must be 16 bytes"),
        (_valid().split("?iv=")[0] + "?iv=@@", "iv is not valid base64"),
        (_valid() + "?iv=AAAA", "iv is not valid base64"),
        ("?iv=" + _valid().split("?iv=")[1], "positive multiple of 16"),
        ("AAAA?iv=" + _valid().split("?iv=")[1], "positive multiple of 16"),
        (_valid().split("?iv=")[0][:-2] + "?iv=" + _valid().split("?iv=")[1], "base64"),
        (_bad_padding(), "bad padding"),
        (_bad_utf8(), "not UTF-8"),
        (12345, "not a string"),
    ],
)
def test_malformed_content_is_an_error_with_a_reason(content, reason):
    with pytest.raises(Nip04Error, match=reason):
        nip04.decrypt(BOB, ALICE.public_key, content)


@pytest.mark.parametrize("seed", range(40))
def test_wrong_key_never_yields_the_ciphertext_or_plaintext(seed):
    text = f"secret order {seed}: 2 x widget, ship to..."
    content = nip04.encrypt(ALICE, BOB.public_key, text, iv=bytes([seed]) * 16)
    stranger = PrivateKey.from_bytes(bytes([seed + 1]) * 32)
    with pytest.raises(Nip04Error):
        nip04.decrypt(stranger, ALICE.public_key, content)


def test_public_key_off_the_curve_is_a_nip04_error():
    with pytest.raises(Nip04Error, match="invalid public key"):
        nip04.encrypt(ALICE, "ff" * 32, "x")
    with pytest.raises(Nip04Error, match="invalid public key"):
        nip04.decrypt(BOB, "zz", _valid())


def test_iv_of_wrong_length_is_refused_when_encrypting():
    with pytest.raises(Nip04Error, match="16 bytes"):
        nip04.encrypt(ALICE, BOB.public_key, "x", iv=bytes(8))
