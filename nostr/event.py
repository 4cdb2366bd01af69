"""NIP-01 events: canonical serialisation, id, BIP-340 signing and verification.

`parse_event` turns untrusted JSON into an `Event` only when its shape, id and
signature are all correct; every failure carries a reason a person can read.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .keys import PrivateKey, verify_signature

Tags = list[list[str]]
_HEX = frozenset("0123456789abcdef")
_FIELDS = ("id", "pubkey", "created_at", "kind", "tags", "content", "sig")
# NIP-01's serialisation: UTF-8 kept verbatim, no whitespace. One encoder for every
# call: json.dumps with these options would build a new one each time.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class InvalidEvent(ValueError):
    """An event that fails NIP-01 checks; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """A signed Nostr event. Build with `sign_event` or `parse_event`, not by hand."""

    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: Tags
    content: str
    sig: str

    def to_dict(self) -> dict[str, Any]:
        """The seven NIP-01 fields as a plain dict."""
        return {
            "id": self.id,
            "pubkey": self.pubkey,
            "created_at": self.created_at,
            "kind": self.kind,
            "tags": self.tags,
            "content": self.content,
            "sig": self.sig,
        }

    def to_json(self) -> str:
        """Compact JSON for the wire (UTF-8 kept verbatim)."""
        return to_json(self.to_dict())

    def tag_values(self, name: str) -> list[str]:
        """The first value of every tag called `name` (e.g. all `p` pubkeys)."""
        return [tag[1] for tag in self.tags if len(tag) > 1 and tag[0] == name]

    def first_tag(self, name: str) -> str | None:
        """The first value of the first tag called `name`, or None."""
        values = self.tag_values(name)
        return values[0] if values else None


def to_json(value: object) -> str:
    """Compact JSON as NIP-01 writes it (UTF-8 kept verbatim, no whitespace)."""
    return _JSON.encode(value)


def serialize(
    pubkey: str, created_at: int, kind: int, tags: Sequence[Sequence[str]], content: str
) -> bytes:
    """The canonical NIP-01 serialisation whose sha256 is the event id."""
    return _JSON.encode([0, pubkey, created_at, kind, tags, content]).encode()


def compute_id(
    pubkey: str, created_at: int, kind: int, tags: Sequence[Sequence[str]], content: str
) -> str:
    """The event id: hex sha256 of the canonical serialisation."""
    return hashlib.sha256(serialize(pubkey, created_at, kind, tags, content)).hexdigest()


def _digest(
    pubkey: str, created_at: int, kind: int, tags: Sequence[Sequence[str]], content: str
) -> bytes:
    """The event id as the 32 bytes that are signed."""
    return hashlib.sha256(serialize(pubkey, created_at, kind, tags, content)).digest()


def sign_event(
    key: PrivateKey,
    kind: int,
    content: str,
    tags: Sequence[Sequence[str]] = (),
    created_at: int | None = None,
) -> Event:
    """Build, hash and sign an event with `key`."""
    stamp = int(time.time()) if created_at is None else created_at
    tag_list = [list(tag) for tag in tags]
    digest = _digest(key.public_key, stamp, kind, tag_list, content)
    sig = key.sign(digest).hex()
    return Event(digest.hex(), key.public_key, stamp, kind, tag_list, content, sig)


def parse_event(raw: object) -> Event:
    """Check shape, id and signature of untrusted input; raise `InvalidEvent` with a reason."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidEvent("not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("event is not a JSON object")
    event = _check_shape(raw)
    try:
        digest = _digest(event.pubkey, event.created_at, event.kind, event.tags, event.content)
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800") has no UTF-8 form, so the event has no id.
        raise InvalidEvent("content or tags contain an unpaired surrogate") from None
    if digest.hex() != event.id:
        raise InvalidEvent("id does not match the event's content")
    if not verify_signature(bytes.fromhex(event.pubkey), digest, bytes.fromhex(event.sig)):
        raise InvalidEvent("bad signature")
    return event


def verify_event(raw: object) -> str | None:
    """None when `raw` is a valid signed event, otherwise the reason it is not."""
    try:
        parse_event(raw)
    except InvalidEvent as error:
        return error.reason
    return None


def _check_shape(raw: dict[str, Any]) -> Event:
    """Check every field's type and range; build the (not yet verified) Event."""
    event_id, pubkey, created_at, kind, tags, content = check_unsigned(raw)
    if "sig" not in raw:
        raise InvalidEvent("missing field 'sig'")
    _check_hex(raw["sig"], "sig", 64)
    return Event(event_id, pubkey, created_at, kind, tags, content, raw["sig"])


def check_unsigned(raw: dict[str, Any]) -> tuple[str, str, int, int, Tags, str]:
    """Type- and range-check the six unsigned fields (a NIP-59 rumor is exactly these)."""
    missing = [name for name in _FIELDS[:6] if name not in raw]
    if missing:
        raise InvalidEvent(f"missing field {missing[0]!r}")
    _check_hex(raw["id"], "id", 32)
    _check_hex(raw["pubkey"], "pubkey", 32)
    created_at, kind, tags, content = raw["created_at"], raw["kind"], raw["tags"], raw["content"]
    if not _is_int(created_at) or created_at < 0:
        raise InvalidEvent("created_at is not a non-negative integer")
    if not _is_int(kind) or not 0 <= kind <= 65535:
        raise InvalidEvent("kind is not an integer between 0 and 65535")
    if not isinstance(content, str):
        raise InvalidEvent("content is not a string")
    if not isinstance(tags, list) or not all(
        isinstance(tag, list) and all(isinstance(item, str) for item in tag) for tag in tags
    ):
        raise InvalidEvent("tags is not a list of lists of strings")
    return raw["id"], raw["pubkey"], created_at, kind, tags, content


def _check_hex(value: object, name: str, size: int) -> None:
    """Require `size` bytes as lowercase hex, as NIP-01 does for id, pubkey and sig."""
    if not isinstance(value, str):
        raise InvalidEvent(f"{name} is not a string")
    if len(value) != size * 2:
        raise InvalidEvent(
            f"{name} has wrong length ({len(value)} characters, expected {size * 2})"
        )
    if not _HEX.issuperset(value):
        raise InvalidEvent(f"{name} is not lowercase hex")


def _is_int(value: object) -> bool:
    """True for JSON integers; bool is an int subclass in Python but not in JSON."""
    return isinstance(value, int) and not isinstance(value, bool)
