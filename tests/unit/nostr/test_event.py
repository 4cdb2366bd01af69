"""NIP-01 events: the exact canonical serialisation, ids, signatures, and every rejection reason."""

from __future__ import annotations

import hashlib
import json

import pytest
from nostrbazaar.nostr.event import (
    Event,
    InvalidEvent,
    compute_id,
    parse_event,
    serialize,
    sign_event,
    verify_event,
)
from nostrbazaar.nostr.keys import PrivateKey

KEY = PrivateKey.from_hex("0000000000000000000000000000000000000000000000000000000000000003")
PUB = KEY.public_key


def _signed(**overrides: object) -> dict[str, object]:
    event = sign_event(KEY, 1, "hello", [["t", "x"]], created_at=1700000000).to_dict()
    event.update(overrides)
    return event


@pytest.mark.parametrize(
    ("content", "escaped"),
    [
        ('say "hi"', r"say \"hi\""),
        ("back\\slash", r"back\\slash"),
        ("line\nbreak", r"line\nbreak"),
        ("tab\there", r"tab\there"),
        ("carriage\rreturn", r"carriage\rreturn"),
        ("back\bspace", r"back\bspace"),
        ("form\ffeed", r"form\ffeed"),
        ("nul\x00 unit\x1f", r"nul\u0000 unit\u001f"),
        ("del\x7f stays", "del\x7f stays"),
        ("café ünïcödé", "café ünïcödé"),
        ("emoji 🛒🧾", "emoji 🛒🧾"),
        ("line sep \u2028 para \u2029", "line sep \u2028 para \u2029"),
        ("slash / stays", "slash / stays"),
    ],
)
def test_canonical_serialisation_escapes_exactly_as_nip01_says(content, escaped):
    expected = f'[0,"{PUB}",1700000000,1,[["t","a\\"b"]],"{escaped}"]'.encode()
    assert serialize(PUB, 1700000000, 1, [["t", 'a"b']], content) == expected


def test_serialisation_has_no_whitespace_and_keeps_utf8_bytes():
    raw = serialize(PUB, 1, 4, [["p", PUB, "wss://r"]], "ü")
    assert b" " not in raw
    assert "ü".encode() in raw


def test_id_is_the_sha256_of_the_serialisation_written_out_by_hand():
    # tests/interop cross-checks ids with nostr-tools and nostr-sdk for arbitrary content.
    by_hand = f'[0,"{PUB}",0,1,[],""]'.encode()
    assert compute_id(PUB, 0, 1, [], "") == hashlib.sha256(by_hand).hexdigest()
    assert compute_id(PUB, 0, 1, [], "") == (
        "543196f25ef9ed178a696cd3927d23245605680642cef2c2f9d57cd622c0ed7c"
    )


def test_signed_event_parses_from_dict_json_and_bytes():
    event = sign_event(KEY, 14, 'quote " and \n newline', [["p", PUB]])
    assert parse_event(event.to_dict()) == event
    assert parse_event(event.to_json()) == event
    assert parse_event(event.to_json().encode()) == event
    assert verify_event(event.to_json()) is None


def test_tag_helpers_read_first_values():
    event = sign_event(KEY, 1, "", [["p", "a"], ["e"], ["p", "b", "relay"]])
    assert event.tag_values("p") == ["a", "b"]
    assert event.first_tag("p") == "a"
    assert event.first_tag("e") is None


def test_to_json_is_compact_and_keeps_unicode():
    event = sign_event(KEY, 1, "ü", created_at=5)
    assert json.loads(event.to_json()) == event.to_dict()
    assert "ü" in event.to_json() and ": " not in event.to_json()


def _flip(hex_text: str) -> str:
    return ("0" if hex_text[0] != "0" else "1") + hex_text[1:]


REJECTIONS = [
    ("not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ("[]", "event is not a JSON object"),
    (42, "event is not a JSON object"),
    (_signed(id=1), "id is not a string"),
    ({k: v for k, v in _signed().items() if k != "id"}, "missing field 'id'"),
    ({k: v for k, v in _signed().items() if k != "sig"}, "missing field 'sig'"),
    ({k: v for k, v in _signed().items() if k != "tags"}, "missing field 'tags'"),
    (_signed(id="ab"), "id has wrong length"),
    (_signed(pubkey=PUB + "00"), "pubkey has wrong length"),
    (_signed(sig="00" * 63), "sig has wrong length"),
    (_signed(pubkey=PUB.upper()), "pubkey is not lowercase hex"),
    (_signed(id="zz" * 32), "id is not lowercase hex"),
    (_signed(created_at=-1), "created_at is not a non-negative integer"),
    (_signed(created_at=1.5), "created_at is not a non-negative integer"),
    (_signed(created_at="1700000000"), "created_at is not a non-negative integer"),
    (_signed(created_at=True), "created_at is not a non-negative integer"),
    (_signed(kind=70000), "kind is not an integer between 0 and 65535"),
    (_signed(kind=False), "kind is not an integer between 0 and 65535"),
    (_signed(content=None), "content is not a string"),
    (_signed(tags=[["t", 1]]), "tags is not a list of lists of strings"),
    (_signed(tags={"t": "x"}), "tags is not a list of lists of strings"),
    (_signed(tags=["t"]), "tags is not a list of lists of strings"),
    (_signed(content="changed"), "id does not match the event's content"),
    (_signed(created_at=1700000001), "id does not match the event's content"),
    (_signed(content="\ud800"), "content or tags contain an unpaired surrogate"),
]


@pytest.mark.parametrize(("raw", "reason"), REJECTIONS, ids=[r for _, r in REJECTIONS])
def test_invalid_event_is_rejected_with_its_reason(raw, reason):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    assert caught.value.reason.startswith(reason)
    assert verify_event(raw) == caught.value.reason


def test_signature_by_another_key_is_a_bad_signature():
    event = _signed()
    other = sign_event(PrivateKey.generate(), 1, "hello", [["t", "x"]], created_at=1700000000)
    assert verify_event(event | {"sig": other.sig}) == "bad signature"


def test_flipped_signature_bit_is_a_bad_signature():
    event = _signed()
    assert verify_event(event | {"sig": _flip(str(event["sig"]))}) == "bad signature"


def test_pubkey_off_the_curve_is_a_bad_signature_not_a_crash():
    off_curve = "ff" * 32
    event = _signed(pubkey=off_curve)
    event["id"] = compute_id(off_curve, 1700000000, 1, [["t", "x"]], "hello")
    assert verify_event(event) == "bad signature"


def test_escaped_unicode_in_wire_json_gives_the_same_id_as_raw_utf8():
    event = sign_event(KEY, 1, "ü 😀 \u2028", created_at=9)
    ascii_json = json.dumps(event.to_dict(), ensure_ascii=True)
    assert parse_event(ascii_json) == event


def test_event_is_frozen():
    event = sign_event(KEY, 1, "x")
    with pytest.raises(AttributeError):
        event.content = "y"  # type: ignore[misc]
    assert isinstance(event, Event)
