"""NIP-59 gift wraps: the spec's example, round trips, and every check `unwrap` makes."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pytest
from nostrbazaar.nostr import nip44, nip59
from nostrbazaar.nostr.event import Event, parse_event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.nostr.nip59 import Nip59Error

from tests.conftest import SHARED

ALICE = PrivateKey.from_hex("0beebd062ec8735f4243466049d7747ef5d6594ee838de147f8aab842b15e273")
BOB = PrivateKey.from_hex("e108399bd8424357a710b606ae0c13166d853d327e47a6e5e038197346bdbf45")
MALLORY = PrivateKey.from_bytes(b"\x07" * 32)


def _spec_gift_wrap() -> dict[str, object]:
    """The signed kind-1059 example in 59.md (its JSON has a trailing comma to forgive)."""
    text = (SHARED / "specs" / "nips" / "59.md").read_text()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        event = json.loads(re.sub(r",\s*}", "}", block))
        if event.get("kind") == 1059 and len(event.get("sig", "")) == 128:
            return event
    raise AssertionError("no signed gift wrap example in 59.md")


def test_the_example_in_the_spec_unwraps_to_its_rumor():
    opened = nip59.unwrap(BOB, parse_event(_spec_gift_wrap()))
    assert opened.rumor.content == "Are you going to the party tonight?"
    assert opened.rumor.id == "9dd003c6d3b73b74a85a9ab099469ce251653a7af76f523671ab828acd2a0ef9"
    assert opened.sender_pubkey == ALICE.public_key == opened.rumor.pubkey
    assert opened.seal.kind == 13


def _rumor(content: str = "order 1", **kwargs: object) -> nip59.Rumor:
    return nip59.make_rumor(ALICE.public_key, 14, content, [["p", BOB.public_key]], **kwargs)


def test_rumor_has_an_id_and_no_signature():
    rumor = _rumor(created_at=1700000000)
    assert set(rumor.to_dict()) == {"id", "pubkey", "created_at", "kind", "tags", "content"}
    assert rumor.created_at == 1700000000
    assert len(rumor.id) == 64


def test_wrap_then_unwrap_gives_back_the_rumor_and_its_author():
    rumor = _rumor('ünïcode 🛒 and "quotes"\n')
    wrapped = nip59.wrap(ALICE, BOB.public_key, rumor)
    opened = nip59.unwrap(BOB, parse_event(wrapped.to_json()))
    assert opened.rumor == rumor
    assert opened.sender_pubkey == ALICE.public_key
    assert opened.wrap == wrapped


def test_layers_hide_the_author_and_show_only_the_recipient():
    wrapped = nip59.wrap(ALICE, BOB.public_key, _rumor())
    seal = nip59.unwrap(BOB, wrapped).seal
    assert (wrapped.kind, wrapped.tags) == (1059, [["p", BOB.public_key]])
    assert wrapped.pubkey not in (ALICE.public_key, BOB.public_key)
    assert (seal.kind, seal.tags, seal.pubkey) == (13, [], ALICE.public_key)


def test_every_wrap_uses_a_new_one_time_key():
    rumor = _rumor()
    authors = {nip59.wrap(ALICE, BOB.public_key, rumor).pubkey for _ in range(5)}
    assert len(authors) == 5


def test_seal_and_wrap_times_are_random_and_up_to_two_days_in_the_past():
    rumor = _rumor()
    before = int(time.time())
    stamps = []
    for _ in range(20):
        wrapped = nip59.wrap(ALICE, BOB.public_key, rumor)
        stamps += [wrapped.created_at, nip59.unwrap(BOB, wrapped).seal.created_at]
    after = int(time.time())
    assert all(before - nip59.TWO_DAYS <= stamp <= after for stamp in stamps)
    assert len(set(stamps)) > 30


def test_sealing_a_rumor_of_someone_else_is_refused():
    with pytest.raises(Nip59Error, match="sealing key"):
        nip59.seal(MALLORY, BOB.public_key, _rumor())


def _forged_wrap(rumor_json: str, author: PrivateKey = ALICE, seal_kind: int = 13) -> Event:
    """A wrap around a seal built by hand, to carry what `seal` would never produce."""
    content = nip44.encrypt(rumor_json, nip44.conversation_key(author, BOB.public_key))
    return nip59.gift_wrap(sign_event(author, seal_kind, content), BOB.public_key)


def _rumor_json(**changes: object) -> str:
    return json.dumps(_rumor().to_dict() | changes)


def _wrap_with_bad_seal_signature() -> Event:
    seal = nip59.seal(ALICE, BOB.public_key, _rumor())
    return nip59.gift_wrap(dataclasses.replace(seal, sig="00" * 64), BOB.public_key)


def _wrap_encrypted_to_someone_else() -> Event:
    return nip59.wrap(ALICE, MALLORY.public_key, _rumor())


def _wrap_with_seal_for_someone_else() -> Event:
    return nip59.gift_wrap(nip59.seal(ALICE, MALLORY.public_key, _rumor()), BOB.public_key)


def _impersonation() -> Event:
    """Mallory seals a rumor that claims Alice wrote it."""
    return _forged_wrap(_rumor().to_json(), author=MALLORY)


def _wrap_of_garbage() -> Event:
    content = nip44.encrypt("not json", nip44.conversation_key(MALLORY, BOB.public_key))
    return sign_event(MALLORY, 1059, content, [["p", BOB.public_key]])


FAILURES = [
    (lambda: dataclasses.replace(nip59.wrap(ALICE, BOB.public_key, _rumor()), kind=4), "kind 4"),
    (_wrap_encrypted_to_someone_else, "cannot decrypt gift wrap: invalid MAC"),
    (_wrap_of_garbage, "invalid seal: not valid JSON"),
    (_wrap_with_bad_seal_signature, "invalid seal: bad signature"),
    (lambda: _forged_wrap(_rumor().to_json(), seal_kind=1), "seal has kind 1"),
    (_wrap_with_seal_for_someone_else, "cannot decrypt seal"),
    (_impersonation, "seal pubkey differs from rumor pubkey"),
    (lambda: _forged_wrap(_rumor_json(sig="00" * 64)), "rumor carries a signature"),
    (lambda: _forged_wrap(_rumor_json(content="edited")), "rumor id does not match"),
    (lambda: _forged_wrap(_rumor_json(id="AB" * 32)), "invalid rumor: id is not lowercase hex"),
    (lambda: _forged_wrap(json.dumps({"kind": 14})), "invalid rumor: missing field 'id'"),
    (lambda: _forged_wrap(_rumor_json(tags="p")), "invalid rumor: tags"),
    (lambda: _forged_wrap(_rumor_json(content="\ud800")), "rumor contains an unpaired"),
    (lambda: _forged_wrap("[1, 2]"), "rumor is not a JSON object"),
    (lambda: _forged_wrap("{"), "rumor is not valid JSON"),
]


@pytest.mark.parametrize(("build", "reason"), FAILURES, ids=[reason for _, reason in FAILURES])
def test_unwrap_refuses_with_a_reason(build, reason):
    with pytest.raises(Nip59Error) as caught:
        nip59.unwrap(BOB, build())
    assert reason in str(caught.value)


def test_wrap_accepts_an_npub_for_the_recipient():
    wrapped = nip59.wrap(ALICE, npub_encode(BOB.public_key), _rumor())
    assert wrapped.tags == [["p", BOB.public_key]]
    assert nip59.unwrap(BOB, wrapped).rumor.content == "order 1"
