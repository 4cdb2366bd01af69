"""Interoperability with nostr-tools (JavaScript), an independent implementation, both ways.

Runs `tests/interop/js/nostr_peer.mjs` with the machine's node. nostr-tools is
pinned by the lock file there and installed by `make test-deps` (part of
`make test`); when it is missing these tests fail and say so, never skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.nostr import nip04, nip17, nip19, nip44, nip59
from nostrbazaar.nostr.event import parse_event, sign_event
from nostrbazaar.nostr.keys import PrivateKey

pytestmark = pytest.mark.interop

JS_DIR = Path(__file__).resolve().parent / "js"
PEER = JS_DIR / "nostr_peer.mjs"
TRICKY = (
    'quote " backslash \\ newline \n tab \t cr \r bs \b ff \f nul \x00 \x1f del \x7f ü 🛒 \u2028'
)


def _node(*requests: dict[str, Any]) -> list[Any]:
    """Run a batch of operations in nostr-tools; each result is a value or {'error': ...}."""
    if not (JS_DIR / "node_modules" / "nostr-tools").is_dir():
        pytest.fail(
            "nostr-tools is not installed: run `make test-deps` (npm ci in tests/interop/js)"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js to run the nostr-tools interop tests")
    done = subprocess.run(
        [node, str(PEER)],
        input=json.dumps(list(requests)),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [result.get("ok", result) for result in json.loads(done.stdout)]


def _ok(*requests: dict[str, Any]) -> list[Any]:
    """Like `_node`, but every operation must succeed."""
    results = _node(*requests)
    failures = [r for r in results if isinstance(r, dict) and "error" in r and len(r) == 1]
    assert not failures, failures
    return results


@pytest.fixture
def ours() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def theirs() -> PrivateKey:
    """Keys for the JavaScript side (nostr-tools derives its own public key from it)."""
    return PrivateKey.generate()


def test_public_keys_are_derived_identically(ours):
    assert _ok({"op": "pubkey", "secret": ours.hex}) == [ours.public_key]


@pytest.mark.parametrize("content", ["", TRICKY])
def test_our_event_id_and_signature_verify_in_nostr_tools(ours, content):
    event = sign_event(ours, 1, content, [["t", TRICKY], ["p", "ab" * 32, ""]])
    tampered = event.to_dict() | {"content": content + "!"}
    hashed, valid, invalid = _ok(
        {"op": "hash", "event": event.to_dict()},
        {"op": "verify", "event": event.to_dict()},
        {"op": "verify", "event": tampered},
    )
    assert (hashed, valid, invalid) == (event.id, True, False)


@pytest.mark.parametrize("content", ["", TRICKY])
def test_nostr_tools_event_verifies_here(theirs, content):
    (event,) = _ok(
        {
            "op": "sign",
            "secret": theirs.hex,
            "kind": 1,
            "content": content,
            "tags": [["t", TRICKY]],
            "created_at": 1700000000,
        }
    )
    parsed = parse_event(event)
    assert (parsed.pubkey, parsed.content) == (theirs.public_key, content)


def test_nip04_we_encrypt_nostr_tools_decrypts(ours, theirs):
    content = nip04.encrypt(ours, theirs.public_key, TRICKY)
    request = {"op": "nip04_decrypt", "secret": theirs.hex, "pubkey": ours.public_key}
    assert _ok(request | {"content": content}) == [TRICKY]


def test_nip04_nostr_tools_encrypts_we_decrypt(ours, theirs):
    request = {"op": "nip04_encrypt", "secret": theirs.hex, "pubkey": ours.public_key}
    texts = ["", "x", "sixteen bytes!!!", TRICKY]
    contents = _ok(*(request | {"text": text} for text in texts))
    assert [nip04.decrypt(ours, theirs.public_key, c) for c in contents] == texts


def test_nip44_conversation_keys_agree(ours, theirs):
    request = {"op": "nip44_conversation_key", "secret": theirs.hex, "pubkey": ours.public_key}
    assert _ok(request) == [nip44.conversation_key(ours, theirs.public_key).hex()]


# nostr-tools 2.25.2 implements the extended length prefix, so long messages interoperate.
SIZES = [1, 65535, 65536, 70000]


def _text(size: int) -> str:
    """Exactly `size` UTF-8 bytes, mostly two-byte characters."""
    return "ü" * (size // 2) + "a" * (size % 2)


def test_nip44_we_encrypt_nostr_tools_decrypts_including_extended_lengths(ours, theirs):
    key = nip44.conversation_key(ours, theirs.public_key)
    texts = [TRICKY] + [_text(size) for size in SIZES]
    request = {"op": "nip44_decrypt", "secret": theirs.hex, "pubkey": ours.public_key}
    assert _ok(*(request | {"payload": nip44.encrypt(t, key)} for t in texts)) == texts


def test_nip44_nostr_tools_encrypts_we_decrypt_including_extended_lengths(ours, theirs):
    key = nip44.conversation_key(ours, theirs.public_key)
    texts = [TRICKY] + [_text(size) for size in SIZES]
    request = {"op": "nip44_encrypt", "secret": theirs.hex, "pubkey": ours.public_key}
    payloads = _ok(*(request | {"text": t} for t in texts))
    assert [nip44.decrypt(p, key) for p in payloads] == texts


def test_nip17_we_wrap_nostr_tools_unwraps_both_copies(ours, theirs):
    rumor, (for_them, for_us) = nip17.chat_message(
        ours, theirs.public_key, TRICKY, [["subject", "Order 7"]]
    )
    for_them_opened, for_us_opened = _ok(
        {"op": "nip59_unwrap", "secret": theirs.hex, "wrap": for_them.to_dict()},
        {"op": "nip59_unwrap", "secret": ours.hex, "wrap": for_us.to_dict()},
    )
    assert for_them_opened == rumor.to_dict() == for_us_opened


def test_nip17_nostr_tools_wraps_we_unwrap_both_copies(ours, theirs):
    (wraps,) = _ok(
        {
            "op": "nip17_wrap",
            "secret": theirs.hex,
            "recipient": ours.public_key,
            "message": TRICKY,
            "subject": "Order 7",
        }
    )
    for_self, for_us = (parse_event(w) for w in wraps)  # nostr-tools puts the sender's first
    opened = nip17.receive(ours, for_us)
    assert opened.sender_pubkey == theirs.public_key
    assert opened.rumor.content == TRICKY
    assert ["p", ours.public_key] in opened.rumor.tags
    assert ["subject", "Order 7"] in opened.rumor.tags
    # nostr-tools builds a separate rumor per copy (its self copy p-tags the sender),
    # so only the message and author can be compared.
    own = nip17.receive(theirs, for_self)
    assert (own.rumor.content, own.sender_pubkey) == (TRICKY, theirs.public_key)


def test_nostr_tools_refuses_a_wrap_whose_seal_impersonates_someone_else(ours, theirs):
    mallory = PrivateKey.generate()
    rumor = nip59.make_rumor(ours.public_key, 14, "pay me instead", [["p", theirs.public_key]])
    content = nip44.encrypt(rumor.to_json(), nip44.conversation_key(mallory, theirs.public_key))
    forged = nip59.gift_wrap(sign_event(mallory, 13, content), theirs.public_key)
    (result,) = _node({"op": "nip59_unwrap", "secret": theirs.hex, "wrap": forged.to_dict()})
    assert "does not match seal pubkey" in result["error"]
    with pytest.raises(nip59.Nip59Error, match="impersonation"):
        nip59.unwrap(theirs, forged)


RELAYS = ["wss://relay.example.com", "wss://inbox.example.org"]


def test_nip19_we_encode_nostr_tools_decodes(ours):
    codes = [
        nip19.npub_encode(ours.public_key),
        nip19.nsec_encode(ours.hex),
        nip19.note_encode("cd" * 32),
        nip19.nprofile_encode(ours.public_key, RELAYS),
        nip19.nevent_encode("cd" * 32, RELAYS, author=ours.public_key, kind=14),
        nip19.naddr_encode("prod-ü-1", ours.public_key, 30402, RELAYS),
    ]
    decoded = _ok(*({"op": "nip19_decode", "code": code} for code in codes))
    assert decoded == [
        {"type": "npub", "data": ours.public_key},
        {"type": "nsec", "data": ours.hex},
        {"type": "note", "data": "cd" * 32},
        {"type": "nprofile", "data": {"pubkey": ours.public_key, "relays": RELAYS}},
        {
            "type": "nevent",
            "data": {"id": "cd" * 32, "relays": RELAYS, "author": ours.public_key, "kind": 14},
        },
        {
            "type": "naddr",
            "data": {
                "identifier": "prod-ü-1",
                "pubkey": ours.public_key,
                "kind": 30402,
                "relays": RELAYS,
            },
        },
    ]


def test_nip19_nostr_tools_encodes_we_decode(ours):
    requests = [
        {"type": "npub", "hex": ours.public_key},
        {"type": "nsec", "hex": ours.hex},
        {"type": "note", "hex": "cd" * 32},
        {"type": "nprofile", "pubkey": ours.public_key, "relays": RELAYS},
        {
            "type": "nevent",
            "id": "cd" * 32,
            "relays": RELAYS,
            "author": ours.public_key,
            "kind": 14,
        },
        {
            "type": "naddr",
            "identifier": "prod-ü-1",
            "pubkey": ours.public_key,
            "kind": 30402,
            "relays": RELAYS,
        },
    ]
    codes = _ok(*({"op": "nip19_encode"} | r for r in requests))
    assert [nip19.decode(code) for code in codes] == [
        nip19.Decoded("npub", pubkey=ours.public_key),
        nip19.Decoded("nsec", secret_key=ours.hex),
        nip19.Decoded("note", event_id="cd" * 32),
        nip19.Decoded("nprofile", pubkey=ours.public_key, relays=tuple(RELAYS)),
        nip19.Decoded(
            "nevent", pubkey=ours.public_key, event_id="cd" * 32, relays=tuple(RELAYS), kind=14
        ),
        nip19.Decoded(
            "naddr", pubkey=ours.public_key, relays=tuple(RELAYS), kind=30402, identifier="prod-ü-1"
        ),
    ]
    # TLV record order is not fixed by NIP-19 (nostr-tools writes relays first), so only
    # the bare keys and ids must come out as the very same strings.
    assert codes[:3] == [
        nip19.npub_encode(ours.public_key),
        nip19.nsec_encode(ours.hex),
        nip19.note_encode("cd" * 32),
    ]


def test_missing_nostr_tools_fails_and_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setitem(globals(), "JS_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="make test-deps"):
        _node({"op": "pubkey", "secret": "01" * 32})
