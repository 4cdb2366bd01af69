"""NIP-44 v2: every vector in the shared file, the current spec's extended-length rule, and more.

Where the vectors file and the current 44.md disagree, the spec wins (the issue
says so): `invalid.encrypt_msg_lengths` lists 65536, 100000 and 10000000 as
lengths that must fail, because the old format had only a u16 length prefix.
The current spec gives plaintexts of 65536 bytes and more a 6-byte prefix
(0x0000 + u32), so those lengths are valid now; only 0 is still invalid.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nostrbazaar.nostr import nip44
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip44 import Nip44Error

from tests.conftest import SHARED, VECTORS

V2 = json.loads((VECTORS / "nip44.vectors.json").read_text())["v2"]
VALID, INVALID = V2["valid"], V2["invalid"]
SPEC_TEXT = (SHARED / "specs" / "nips" / "44.md").read_text()


@pytest.mark.parametrize("vector", VALID["get_conversation_key"])
def test_conversation_key_vector(vector):
    key = nip44.get_conversation_key(vector["sec1"], vector["pub2"])
    assert key.hex() == vector["conversation_key"]


def test_conversation_key_is_symmetric_and_cached_value_equals_fresh_one():
    alice, bob = PrivateKey.generate(), PrivateKey.generate()
    cached = nip44.conversation_key(alice, bob.public_key)
    assert cached == nip44.conversation_key(bob, alice.public_key)
    assert cached == nip44.conversation_key(alice, bob.public_key, cache=False)
    assert nip44.conversation_key(alice, bob.public_key) is cached


@pytest.mark.parametrize("vector", VALID["get_message_keys"]["keys"])
def test_message_keys_vector(vector):
    conversation = bytes.fromhex(VALID["get_message_keys"]["conversation_key"])
    keys = nip44.get_message_keys(conversation, bytes.fromhex(vector["nonce"]))
    assert [k.hex() for k in keys] == [
        vector["chacha_key"],
        vector["chacha_nonce"],
        vector["hmac_key"],
    ]


@pytest.mark.parametrize(("unpadded", "padded"), VALID["calc_padded_len"])
def test_padded_length_vector(unpadded, padded):
    assert nip44.calc_padded_len(unpadded) == padded


@pytest.mark.parametrize("vector", VALID["encrypt_decrypt"])
def test_encrypt_decrypt_vector_in_both_directions(vector):
    pub2 = PrivateKey.from_hex(vector["sec2"]).public_key
    pub1 = PrivateKey.from_hex(vector["sec1"]).public_key
    forward = nip44.get_conversation_key(vector["sec1"], pub2)
    assert forward.hex() == vector["conversation_key"]
    payload = nip44.encrypt(vector["plaintext"], forward, bytes.fromhex(vector["nonce"]))
    assert payload == vector["payload"]
    backward = nip44.get_conversation_key(vector["sec2"], pub1)
    assert backward == forward
    assert nip44.decrypt(payload, backward) == vector["plaintext"]


@pytest.mark.parametrize("vector", VALID["encrypt_decrypt_long_msg"])
def test_long_message_vector_below_the_extended_threshold(vector):
    plaintext = vector["pattern"] * vector["repeat"]
    assert hashlib.sha256(plaintext.encode()).hexdigest() == vector["plaintext_sha256"]
    conversation = bytes.fromhex(vector["conversation_key"])
    payload = nip44.encrypt(plaintext, conversation, bytes.fromhex(vector["nonce"]))
    assert hashlib.sha256(payload.encode()).hexdigest() == vector["payload_sha256"]
    assert nip44.decrypt(payload, conversation) == plaintext


# The extended-length table of the current 44.md: (plaintext_len, plaintext_sha256, payload_sha256).
SPEC_EXTENDED = [
    (
        65535,
        "6e1bebca6a8229364a162a72ef064826c4cd7457bf54f190ef782bd9deff3e42",
        "6d8c2810d1e870fbaa1f0a0937126cca837a15f9260e27060c331d70a3c0bc84",
    ),
    (
        65536,
        "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a",
        "b7b4edb36ba92e267d322d56d9aebc22e7fa96ff52e3c12adc07f07a43cbc616",
    ),
    (
        65537,
        "008ffc88d3c96a9f307524eb361e47c5222a887fc45fa0c1fb8d429c5c23b430",
        "eeb7c7c5373894ea2c1547cfd3ccb15d5a0b2d619da852e5c79df792dcc9e435",
    ),
]
SPEC_CONVERSATION_KEY = bytes.fromhex(
    "c41c775356fd92eadc63ff5a0dc1da211b268cbea22316767095b2871ea1412d"
)
SPEC_NONCE = bytes(31) + b"\x01"


def test_extended_length_table_is_the_one_in_the_spec_text():
    for length, plain_sha, payload_sha in SPEC_EXTENDED:
        assert f"| {length} |" in SPEC_TEXT
        assert plain_sha in SPEC_TEXT and payload_sha in SPEC_TEXT


@pytest.mark.parametrize(("length", "plain_sha", "payload_sha"), SPEC_EXTENDED)
def test_extended_length_prefix_matches_the_current_spec(length, plain_sha, payload_sha):
    plaintext = "a" * length
    assert hashlib.sha256(plaintext.encode()).hexdigest() == plain_sha
    payload = nip44.encrypt(plaintext, SPEC_CONVERSATION_KEY, SPEC_NONCE)
    assert hashlib.sha256(payload.encode()).hexdigest() == payload_sha
    assert nip44.decrypt(payload, SPEC_CONVERSATION_KEY) == plaintext


def test_prefix_is_two_bytes_below_65536_and_six_bytes_from_it():
    for length, prefix in [(65535, b"\xff\xff"), (65536, b"\x00\x00\x00\x01\x00\x00")]:
        payload = nip44.encrypt("a" * length, SPEC_CONVERSATION_KEY, SPEC_NONCE)
        raw = base64.b64decode(payload)
        keys = nip44.get_message_keys(SPEC_CONVERSATION_KEY, SPEC_NONCE)
        padded = nip44._chacha20(keys[0], keys[1], raw[33:-32])
        assert padded.startswith(prefix + b"a")
        assert len(padded) == len(prefix) + 65536


def test_the_only_message_length_still_invalid_is_zero():
    """`invalid.encrypt_msg_lengths` also lists 65536, 100000 and 10000000: see the module doc."""
    lengths = INVALID["encrypt_msg_lengths"]
    assert lengths == [0, 65536, 100000, 10000000]
    key = bytes(32)
    with pytest.raises(Nip44Error, match="length"):
        nip44.encrypt("", key)
    for length in lengths[1:]:
        plaintext = "x" * length
        assert nip44.decrypt(nip44.encrypt(plaintext, key), key) == plaintext


@pytest.mark.parametrize("vector", INVALID["get_conversation_key"], ids=lambda v: v["note"])
def test_invalid_conversation_key_vector_is_refused(vector):
    with pytest.raises(Nip44Error):
        nip44.get_conversation_key(vector["sec1"], vector["pub2"])


@pytest.mark.parametrize("vector", INVALID["decrypt"], ids=lambda v: v["note"])
def test_invalid_decrypt_vector_is_refused(vector):
    with pytest.raises(Nip44Error) as caught:
        nip44.decrypt(vector["payload"], bytes.fromhex(vector["conversation_key"]))
    note = vector["note"]
    expected = "unknown encryption version" if note.endswith("length: 0") else note.split(":")[0]
    assert str(caught.value).startswith(expected)


def _payload() -> str:
    return nip44.encrypt("hello", SPEC_CONVERSATION_KEY, SPEC_NONCE)


def _tamper(payload: str, index: int) -> str:
    raw = bytearray(base64.b64decode(payload))
    raw[index] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_tamper(_payload(), 0), "unknown encryption version 3"),
        (_tamper(_payload(), 5), "invalid MAC"),
        (_tamper(_payload(), 40), "invalid MAC"),
        (_tamper(_payload(), -1), "invalid MAC"),
        ("#" + _payload()[1:], "unknown encryption version"),
        (_payload() + "\n", "invalid base64"),
        (_payload()[:-1] + "*", "invalid base64"),
        ("Ag" + "é" * 200, "invalid base64"),
        ("A" * (nip44.MAX_PAYLOAD_CHARS + 4), "invalid payload length"),
        (None, "unknown encryption version"),
    ],
)
def test_tampered_or_malformed_payload_is_refused(payload, reason):
    with pytest.raises(Nip44Error, match=reason):
        nip44.decrypt(payload, SPEC_CONVERSATION_KEY)


def test_wrong_conversation_key_fails_the_mac():
    with pytest.raises(Nip44Error, match="invalid MAC"):
        nip44.decrypt(_payload(), bytes(32))


def test_mac_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = nip44.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(nip44.hmac, "compare_digest", spy)
    nip44.decrypt(_payload(), SPEC_CONVERSATION_KEY)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("key", "nonce", "reason"),
    [(bytes(31), bytes(32), "conversation key"), (bytes(32), bytes(16), "nonce")],
)
def test_keys_and_nonces_must_be_32_bytes(key, nonce, reason):
    with pytest.raises(Nip44Error, match=reason):
        nip44.encrypt("x", key, nonce)


def test_plaintext_with_unpaired_surrogate_is_refused():
    with pytest.raises(Nip44Error, match="surrogate"):
        nip44.encrypt("\ud800", bytes(32))


def test_decrypted_padding_that_is_not_utf8_is_refused():
    keys = nip44.get_message_keys(SPEC_CONVERSATION_KEY, SPEC_NONCE)
    padded = b"\x00\x02\xff\xfe" + bytes(30)
    ciphertext = nip44._chacha20(keys[0], keys[1], padded)
    mac = nip44._hmac(keys[2], SPEC_NONCE + ciphertext)
    payload = base64.b64encode(b"\x02" + SPEC_NONCE + ciphertext + mac).decode()
    with pytest.raises(Nip44Error, match="UTF-8"):
        nip44.decrypt(payload, SPEC_CONVERSATION_KEY)


def test_extended_prefix_announcing_a_short_length_is_invalid_padding():
    keys = nip44.get_message_keys(SPEC_CONVERSATION_KEY, SPEC_NONCE)
    padded = b"\x00\x00\x00\x00\x00\x05hello" + bytes(27)
    ciphertext = nip44._chacha20(keys[0], keys[1], padded)
    mac = nip44._hmac(keys[2], SPEC_NONCE + ciphertext)
    payload = base64.b64encode(b"\x02" + SPEC_NONCE + ciphertext + mac).decode()
    with pytest.raises(Nip44Error, match="invalid padding"):
        nip44.decrypt(payload, SPEC_CONVERSATION_KEY)


@settings(max_examples=60)
@given(st.text(min_size=1, max_size=2000).filter(lambda t: len(t.encode()) >= 1))
def test_any_text_round_trips(text):
    key = nip44.conversation_key(
        PrivateKey.from_bytes(b"\x01" * 32), PrivateKey.from_bytes(b"\x02" * 32).public_key
    )
    assert nip44.decrypt(nip44.encrypt(text, key), key) == text


@given(st.integers(1, 2**32 - 1))
def test_padded_length_is_at_least_the_length_and_at_least_32(length):
    padded = nip44.calc_padded_len(length)
    assert padded >= max(length, 32)
    assert padded <= max(32, 2 * length)
