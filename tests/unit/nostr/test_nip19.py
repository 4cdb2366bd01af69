"""NIP-19: bech32 keys and ids, TLV shares, and the accept-npub-or-hex helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nostrbazaar.nostr import nip19
from nostrbazaar.nostr.keys import InvalidKey, PrivateKey
from nostrbazaar.nostr.nip19 import Nip19Error

# The examples given in NIP-19 itself.
SPEC_NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
SPEC_NPUB_HEX = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
SPEC_NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
SPEC_NSEC_HEX = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
SPEC_NPROFILE = (
    "nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhx"
    "ue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p"
)
SPEC_PROFILE_HEX = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"
SPEC_PROFILE_NPUB = "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6"

hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)
relay = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)
relays = st.lists(relay.map(lambda r: f"wss://{r}"), max_size=6).map(tuple)


def test_spec_npub_and_nsec_examples_decode_and_encode_both_ways():
    assert nip19.decode(SPEC_NPUB) == nip19.Decoded("npub", pubkey=SPEC_NPUB_HEX)
    assert nip19.npub_encode(SPEC_NPUB_HEX) == SPEC_NPUB
    assert nip19.decode(SPEC_NSEC).secret_key == SPEC_NSEC_HEX
    assert nip19.nsec_encode(SPEC_NSEC_HEX) == SPEC_NSEC
    assert nip19.npub_encode(SPEC_PROFILE_HEX) == SPEC_PROFILE_NPUB


def test_spec_nprofile_example_decodes_to_key_and_two_relays():
    decoded = nip19.decode(SPEC_NPROFILE)
    assert decoded.type == "nprofile"
    assert decoded.pubkey == SPEC_PROFILE_HEX
    assert decoded.relays == ("wss://r.x.com", "wss://djbas.sadkb.com")
    assert nip19.nprofile_encode(SPEC_PROFILE_HEX, decoded.relays) == SPEC_NPROFILE


def test_uppercase_bech32_is_accepted_but_mixed_case_is_not():
    assert nip19.decode(SPEC_NPUB.upper()).pubkey == SPEC_NPUB_HEX
    with pytest.raises(Nip19Error, match="mixes"):
        nip19.decode(SPEC_NPUB[:10] + SPEC_NPUB[10:].upper())


def test_tlv_entities_longer_than_ninety_characters_round_trip():
    many = tuple(f"wss://relay{i}.example.com" for i in range(8))
    code = nip19.nevent_encode("ab" * 32, many, author=SPEC_NPUB_HEX, kind=30402)
    assert len(code) > 90
    assert nip19.decode(code) == nip19.Decoded(
        "nevent", pubkey=SPEC_NPUB_HEX, event_id="ab" * 32, relays=many, kind=30402
    )


@given(hex32)
def test_npub_nsec_note_round_trip(value):
    assert nip19.decode(nip19.npub_encode(value)).pubkey == value
    assert nip19.decode(nip19.nsec_encode(value)).secret_key == value
    assert nip19.decode(nip19.note_encode(value)).event_id == value


@given(hex32, relays)
def test_nprofile_round_trips(pubkey, hints):
    assert nip19.decode(nip19.nprofile_encode(pubkey, hints)) == nip19.Decoded(
        "nprofile", pubkey=pubkey, relays=hints
    )


@given(hex32, relays, st.none() | hex32, st.none() | st.integers(0, 2**32 - 1))
def test_nevent_round_trips_with_optional_author_and_kind(event_id, hints, author, kind):
    decoded = nip19.decode(nip19.nevent_encode(event_id, hints, author=author, kind=kind))
    assert decoded == nip19.Decoded(
        "nevent", pubkey=author, event_id=event_id, relays=hints, kind=kind
    )


@given(st.text(max_size=80), hex32, st.integers(0, 2**32 - 1), relays)
def test_naddr_round_trips_including_empty_and_unicode_identifiers(identifier, pubkey, kind, hints):
    decoded = nip19.decode(nip19.naddr_encode(identifier, pubkey, kind, hints))
    assert decoded == nip19.Decoded(
        "naddr", pubkey=pubkey, relays=hints, kind=kind, identifier=identifier
    )


def test_unknown_tlv_types_are_ignored():
    payload = bytes([0, 32]) + bytes(32) + bytes([9, 3]) + b"abc" + bytes([1, 3]) + b"wss"
    decoded = nip19.decode(nip19.bech32_encode("nprofile", payload))
    assert decoded.pubkey == "00" * 32
    assert decoded.relays == ("wss",)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (SPEC_NPUB[:-1] + ("q" if SPEC_NPUB[-1] != "q" else "p"), "checksum"),
        ("npub1" + "b" * 58, "alphabet"),
        ("npub", "no prefix or is too short"),
        ("x" * 5001, "at most 5000"),
        (nip19.bech32_encode("npub", bytes(31)), "32 bytes"),
        (nip19.bech32_encode("nrelay", b"wss://x"), "unsupported"),
        (nip19.bech32_encode("nprofile", bytes([0, 32]) + bytes(10)), "truncated"),
        (nip19.bech32_encode("nprofile", bytes([1, 3]) + b"wss"), "missing public key"),
        (nip19.bech32_encode("nevent", bytes([0, 31]) + bytes(31)), "32 bytes"),
        (nip19.bech32_encode("nevent", bytes([0, 32]) + bytes(32) + bytes([3, 2, 0, 1])), "4 by"),
        (nip19.bech32_encode("naddr", bytes([0, 1]) + b"d"), "author and a kind"),
        (nip19.bech32_encode("nprofile", bytes([0, 32]) + bytes(32) + b"\x01\x01\xff"), "UTF-8"),
    ],
)
def test_malformed_strings_are_rejected_with_a_reason(code, reason):
    with pytest.raises(Nip19Error, match=reason):
        nip19.decode(code)


def test_bech32m_checksum_is_not_accepted_as_bech32():
    # Same data, checksum constant 0x2bc830a3 (bech32m) instead of 1.
    data = nip19._convert_bits(bytes.fromhex(SPEC_NPUB_HEX), 8, 5, pad=True)
    poly = nip19._polymod([*nip19._hrp_expand("npub"), *data, 0, 0, 0, 0, 0, 0]) ^ 0x2BC830A3
    tail = "".join(nip19._CHARSET[(poly >> 5 * (5 - i)) & 31] for i in range(6))
    code = "npub1" + "".join(nip19._CHARSET[d] for d in data) + tail
    with pytest.raises(Nip19Error, match="checksum"):
        nip19.decode(code)


@pytest.mark.parametrize(
    "value", [SPEC_NPUB, SPEC_NPUB_HEX, SPEC_NPUB_HEX.upper(), f"  {SPEC_NPUB}\n"]
)
def test_normalize_public_key_accepts_npub_or_hex_in_either_case(value):
    assert nip19.normalize_public_key(value) == SPEC_NPUB_HEX


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ff" * 32, "not a point on the secp256k1 curve"),
        (nip19.npub_encode("ff" * 32), "not a point on the secp256k1 curve"),
        ("abc", "npub or 64 hex"),
        ("g" * 64, "npub or 64 hex"),
        (SPEC_NPUB[:-1] + "x", "invalid npub"),
        (SPEC_NSEC, "npub or 64 hex"),
        (None, "must be a string"),
    ],
)
def test_normalize_public_key_rejects_with_a_clear_message(value, reason):
    with pytest.raises(InvalidKey, match=reason):
        nip19.normalize_public_key(value)


def test_parse_private_key_accepts_nsec_or_hex():
    assert nip19.parse_private_key(SPEC_NSEC).hex == SPEC_NSEC_HEX
    assert nip19.parse_private_key(SPEC_NSEC_HEX) == PrivateKey.from_hex(SPEC_NSEC_HEX)


@pytest.mark.parametrize("value", [SPEC_NPUB, "nsec1qqqq", "00" * 32, "zz", 7])
def test_parse_private_key_rejects_anything_else_as_invalid_key(value):
    with pytest.raises(InvalidKey):
        nip19.parse_private_key(value)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: nip19.npub_encode("abc"), "64 hex"),
        (lambda: nip19.note_encode("zz" * 32), "not hex"),
        (lambda: nip19.naddr_encode("d", "00" * 32, -1), "32-bit"),
        (lambda: nip19.nprofile_encode("00" * 32, ["x" * 256]), "255 bytes"),
    ],
)
def test_encoding_bad_input_raises_nip19_error(call, reason):
    with pytest.raises(Nip19Error, match=reason):
        call()
