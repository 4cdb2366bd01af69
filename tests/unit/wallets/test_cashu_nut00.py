"""NUT-00 blind signatures and the token codec against cashubtc/nuts `tests/00-tests.md`."""

from __future__ import annotations

import pytest
from nostrbazaar.nostr.secp import public_key_of
from nostrbazaar.wallets.cashu_client import split_amount
from nostrbazaar.wallets.cashu_nut00 import (
    blind,
    hash_to_curve,
    hex_of,
    new_blinding,
    point,
    sign_blinded,
    unblind,
)
from nostrbazaar.wallets.cashu_token import TokenError, decode, encode_v4


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("00" * 32, "024cce997d3b518f739663b757deaec95bcd9473c30a14ac2fd04023a739d1a725"),
        ("00" * 31 + "01", "022e7158e11c9506f1aa4248bf531298daa7febd6194f003edcd9b93ade6253acf"),
        ("00" * 31 + "02", "026cdbe15362df59cd1dd3c9c11de8aedac2106eca69236ecd9fbe117af897be4f"),
    ],
)
def test_hash_to_curve_matches_the_vectors(message: str, expected: str) -> None:
    assert hex_of(hash_to_curve(bytes.fromhex(message))) == expected


@pytest.mark.parametrize(
    ("x", "r", "expected"),
    [
        ("d341ee4871f1f889041e63cf0d3823c713eea6aff01e80f1719f08f9e5be98f6",
         "99fce58439fc37412ab3468b73db0569322588f62fb3a49182d67e23d877824a",
         "033b1a9737a40cc3fd9b6af4b723632b76a67a36782596304612a6c2bfb5197e6d"),
        ("f1aaf16c2239746f369572c0784d9dd3d032d952c2d992175873fb58fae31a60",
         "f78476ea7cc9ade20f9e05e58a804cf19533f03ea805ece5fee88c8e2874ba50",
         "029bdf2d716ee366eddf599ba252786c1033f47e230248a4612a5670ab931f1763"),
    ],
)  # fmt: skip
def test_blinded_messages_match_the_vectors(x: str, r: str, expected: str) -> None:
    assert hex_of(blind(bytes.fromhex(x), int(r, 16))) == expected


def test_blinded_signatures_match_the_vectors_and_unblind_to_k_times_y() -> None:
    b_ = point("02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2")
    assert hex_of(sign_blinded(1, b_)) == hex_of(b_)
    k = int("7f" * 32, 16)
    assert hex_of(sign_blinded(k, b_)) == (
        "0398bc70ce8184d27ba89834d19f5199c84443c31131e48d3c1214db24247d005d")  # fmt: skip
    secret, r = new_blinding()
    mint_key = point(public_key_of(k.to_bytes(32, "big")))
    c = unblind(sign_blinded(k, blind(secret.encode(), r)), r, mint_key)
    assert hex_of(c) == hex_of(sign_blinded(k, hash_to_curve(secret.encode())))


V4_SINGLE = (
    "cashuBpGF0gaJhaUgArSaMTR9YJmFwgaNhYQFhc3hAOWE2ZGJiODQ3YmQyMzJiYTc2ZGIwZGYxOTcyMTZiMjlkM2I4Y2"
    "MxNDU1M2NkMjc4MjdmYzFjYzk0MmZlZGI0ZWFjWCEDhhhUP_trhpXfStS6vN6So0qWvc2X3O4NfM-Y1HISZ5JhZGlUaG"
    "FuayB5b3VhbXVodHRwOi8vbG9jYWxob3N0OjMzMzhhdWNzYXQ="
)
V3 = (
    "cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHBzOi8vODMzMy5zcGFjZTozMzM4IiwicHJvb2ZzIjpbeyJhbW91bnQiOj"
    "IsImlkIjoiMDA5YTFmMjkzMjUzZTQxZSIsInNlY3JldCI6IjQwNzkxNWJjMjEyYmU2MWE3N2UzZTZkMmFlYjRjNzI3OT"
    "gwYmRhNTFjZDA2YTZhZmMyOWUyODYxNzY4YTc4MzciLCJDIjoiMDJiYzkwOTc5OTdkODFhZmIyY2M3MzQ2YjVlNDM0NW"
    "E5MzQ2YmQyYTUwNmViNzk1ODU5OGE3MmYwY2Y4NTE2M2VhIn0seyJhbW91bnQiOjgsImlkIjoiMDA5YTFmMjkzMjUzZT"
    "QxZSIsInNlY3JldCI6ImZlMTUxMDkzMTRlNjFkNzc1NmIwZjhlZTBmMjNhNjI0YWNhYTNmNGUwNDJmNjE0MzNjNzI4Yz"
    "cwNTdiOTMxYmUiLCJDIjoiMDI5ZThlNTA1MGI4OTBhN2Q2YzA5NjhkYjE2YmMxZDVkNWZhMDQwZWExZGUyODRmNmVjNj"
    "lkNjEyOTlmNjcxMDU5In1dfV0sInVuaXQiOiJzYXQiLCJtZW1vIjoiVGhhbmsgeW91LiJ9"
)


def test_a_v4_token_reads_and_writes_back_as_the_vector() -> None:
    token = decode(V4_SINGLE)
    assert (token.mint, token.unit, token.memo, token.amount) == (
        "http://localhost:3338", "sat", "Thank you", 1)  # fmt: skip
    assert token.proofs[0].id == "00ad268c4d1f5826"
    assert token.proofs[0].C.startswith("038618543ffb")
    assert encode_v4(token) == V4_SINGLE.rstrip("=")


def test_a_v3_token_reads_and_a_bad_prefix_does_not() -> None:
    token = decode(V3)
    assert (token.mint, token.amount, len(token.proofs)) == ("https://8333.space:3338", 10, 2)
    with pytest.raises(TokenError, match="cashuA or cashuB"):
        decode("casshu" + V3[5:])


def test_amounts_split_into_powers_of_two() -> None:
    assert split_amount(107) == [1, 2, 8, 32, 64]
    assert sum(split_amount(12_345)) == 12_345
