"""Keys: loading secrets, x-only public keys, and the unhashed ECDH shared x."""

from __future__ import annotations

import pytest
from nostrbazaar.nostr.keys import InvalidKey, PrivateKey, is_valid_public_key

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ALICE = PrivateKey.from_hex("0000000000000000000000000000000000000000000000000000000000000001")
BOB = PrivateKey.from_hex("0000000000000000000000000000000000000000000000000000000000000002")


def test_secret_one_gives_the_generator_x_coordinate():
    assert ALICE.public_key == "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def test_hex_round_trips_and_generate_gives_distinct_valid_keys():
    first, second = PrivateKey.generate(), PrivateKey.generate()
    assert first != second
    assert PrivateKey.from_hex(first.hex) == first
    assert is_valid_public_key(first.public_key)


@pytest.mark.parametrize(
    "secret",
    ["00" * 32, f"{ORDER:064x}", f"{ORDER + 1:064x}", "ff" * 32, "zz" * 32, "01" * 31, ""],
)
def test_secret_outside_one_to_n_minus_one_or_not_hex_is_invalid(secret):
    with pytest.raises(InvalidKey):
        PrivateKey.from_hex(secret)


def test_ecdh_gives_the_same_x_from_both_sides_cached_or_not():
    shared = ALICE.ecdh_x(BOB.public_key)
    assert shared == BOB.ecdh_x(ALICE.public_key)
    assert shared == ALICE.ecdh_x(BOB.public_key, cache=False)
    assert len(shared) == 32


def test_ecdh_with_an_x_that_is_not_on_the_curve_is_invalid():
    with pytest.raises(InvalidKey, match="not on the curve"):
        ALICE.ecdh_x("ff" * 32, cache=False)


@pytest.mark.parametrize("pubkey", ["ff" * 32, "00" * 32, "79BE", 1234, "g" * 64])
def test_malformed_or_off_curve_public_key_is_not_valid(pubkey):
    assert not is_valid_public_key(pubkey)


def test_aux_rand_must_be_32_bytes():
    with pytest.raises(ValueError, match="aux_rand"):
        ALICE.sign(b"\x00" * 32, b"short")
