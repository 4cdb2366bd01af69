"""BIP-340 Schnorr signatures: the final official vectors, and the shared draft file.

`../shared/vectors/bip340.vectors.csv` is NOT the final BIP-340. It is the 2020
draft: its challenge tag was "BIP340/challenge" and R had to have a *square* y
(row 6 says "has_square_y(R) is false"). Final BIP-340 (Bitcoin Taproot,
libsecp256k1, nostr-sdk, nostr-tools, every Nostr client) uses the tag
"BIP0340/challenge" and an *even* y. So the draft's TRUE rows 0-4 are
signatures that every Nostr implementation rejects, and must reject: accepting
them would mean we verify something other than what the network signs. Its
FALSE rows 5-14 are still invalid under the final rules. The secret keys of
rows 0-3 are unchanged between draft and final, so their public keys must
still be derived correctly.

The final vectors live in `tests/vectors/bip340_final.csv` (see the README there).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from nostrbazaar.nostr.keys import PrivateKey, verify_signature

from tests.conftest import REPO_ROOT, VECTORS

DRAFT_FILE = VECTORS / "bip340.vectors.csv"
FINAL_FILE = REPO_ROOT / "tests" / "vectors" / "bip340_final.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _verifies(row: dict[str, str]) -> bool:
    return verify_signature(
        bytes.fromhex(row["public key"]),
        bytes.fromhex(row["message"]),
        bytes.fromhex(row["signature"]),
    )


DRAFT = _rows(DRAFT_FILE)
FINAL = _rows(FINAL_FILE)


def _ids(rows: list[dict[str, str]]) -> list[str]:
    return [f"row{row['index']}" for row in rows]


def test_the_shared_file_is_the_draft_and_the_final_file_has_all_nineteen_rows():
    assert "has_square_y(R) is false" in DRAFT[6]["comment"]
    assert len(DRAFT) == 15
    assert [int(row["index"]) for row in FINAL] == list(range(19))
    assert "has_even_y(R) is false" in FINAL[6]["comment"]


@pytest.mark.parametrize("row", FINAL, ids=_ids(FINAL))
def test_final_vector_verifies_exactly_as_stated(row):
    assert _verifies(row) is (row["verification result"] == "TRUE")


SIGNING_ROWS = [row for row in FINAL if row["secret key"]]


@pytest.mark.parametrize("row", SIGNING_ROWS, ids=_ids(SIGNING_ROWS))
def test_final_vector_signature_is_reproduced_from_secret_key_and_aux_rand(row):
    key = PrivateKey.from_hex(row["secret key"])
    signature = key.sign(bytes.fromhex(row["message"]), bytes.fromhex(row["aux_rand"]))
    assert key.public_key == row["public key"].lower()
    assert signature.hex() == row["signature"].lower()


def test_final_vectors_include_messages_that_are_not_32_bytes():
    sizes = {len(bytes.fromhex(row["message"])) for row in FINAL}
    assert {0, 1, 17, 100} <= sizes


DRAFT_FALSE = [row for row in DRAFT if row["verification result"] == "FALSE"]
DRAFT_TRUE = [row for row in DRAFT if row["verification result"] == "TRUE"]


@pytest.mark.parametrize("row", DRAFT_FALSE, ids=_ids(DRAFT_FALSE))
def test_draft_invalid_row_is_rejected(row):
    assert not _verifies(row)


@pytest.mark.parametrize("row", DRAFT_TRUE, ids=_ids(DRAFT_TRUE))
def test_draft_signature_is_rejected_by_final_bip340(row):
    assert not _verifies(row)


DRAFT_WITH_KEYS = [row for row in DRAFT if row["secret key"]]


@pytest.mark.parametrize("row", DRAFT_WITH_KEYS, ids=_ids(DRAFT_WITH_KEYS))
def test_draft_secret_key_still_derives_its_public_key(row):
    assert PrivateKey.from_hex(row["secret key"]).public_key == row["public key"].lower()


@pytest.mark.parametrize("row", DRAFT_WITH_KEYS, ids=_ids(DRAFT_WITH_KEYS))
def test_final_signature_over_a_draft_message_differs_from_the_draft_one_and_verifies(row):
    key = PrivateKey.from_hex(row["secret key"])
    message = bytes.fromhex(row["message"])
    signature = key.sign(message, bytes.fromhex(row["aux_rand"]))
    assert signature.hex() != row["signature"].lower()
    assert verify_signature(bytes.fromhex(key.public_key), message, signature)


def test_signature_of_wrong_length_or_key_of_wrong_length_is_rejected():
    row = FINAL[1]
    public, message, signature = (
        bytes.fromhex(row[name]) for name in ("public key", "message", "signature")
    )
    assert not verify_signature(public, message, signature[:63])
    assert not verify_signature(public[:31], message, signature)
    assert not verify_signature(public, message, signature + b"\x00")
