"""NIP-59 gift wrap: an unsigned rumor, sealed (kind 13) by the author, wrapped (kind 1059).

The seal is signed by the real author and encrypted to the recipient; the wrap
is signed by a one-time key, so outsiders learn only the recipient. Unwrapping
refuses anything where the seal's signer is not the rumor's author: otherwise
anyone could put words into anyone's mouth.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .event import (
    Event,
    InvalidEvent,
    Tags,
    check_unsigned,
    compute_id,
    parse_event,
    sign_event,
    to_json,
)
from .keys import PrivateKey
from .nip19 import public_key_hex
from .nip44 import Nip44Error, conversation_key, decrypt, encrypt

SEAL_KIND = 13
GIFT_WRAP_KIND = 1059
TWO_DAYS = 2 * 24 * 60 * 60


class Nip59Error(ValueError):
    """A gift wrap that cannot be opened or fails a check; the message says which."""


@dataclass(frozen=True, slots=True)
class Rumor:
    """An unsigned event: deniable if leaked, authenticated only by its seal."""

    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: Tags
    content: str

    def to_dict(self) -> dict[str, Any]:
        """The six fields (no sig) as a plain dict."""
        return {
            "id": self.id,
            "pubkey": self.pubkey,
            "created_at": self.created_at,
            "kind": self.kind,
            "tags": self.tags,
            "content": self.content,
        }

    def to_json(self) -> str:
        """Compact JSON, as it is encrypted into the seal."""
        return to_json(self.to_dict())


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """An opened gift wrap: the rumor, its authenticated author, and both layers."""

    rumor: Rumor
    sender_pubkey: str
    seal: Event
    wrap: Event


def make_rumor(
    pubkey: str,
    kind: int,
    content: str,
    tags: Sequence[Sequence[str]] = (),
    created_at: int | None = None,
) -> Rumor:
    """Build an unsigned event with its id; `created_at` defaults to now."""
    author = public_key_hex(pubkey)
    stamp = int(time.time()) if created_at is None else created_at
    tag_list = [list(tag) for tag in tags]
    rumor_id = compute_id(author, stamp, kind, tag_list, content)
    return Rumor(rumor_id, author, stamp, kind, tag_list, content)


def random_past_timestamp() -> int:
    """Now minus up to two days, so seal and wrap times do not reveal the real one."""
    return int(time.time()) - secrets.randbelow(TWO_DAYS)


def seal(sender: PrivateKey, recipient_pubkey: str, rumor: Rumor) -> Event:
    """Encrypt `rumor` to the recipient and sign it as kind 13 with no tags."""
    if rumor.pubkey != sender.public_key:
        raise Nip59Error("the rumor's pubkey must be the sealing key's pubkey")
    key = conversation_key(sender, recipient_pubkey)
    content = encrypt(rumor.to_json(), key)
    return sign_event(sender, SEAL_KIND, content, (), random_past_timestamp())


def gift_wrap(seal_event: Event, recipient_pubkey: str) -> Event:
    """Encrypt a seal to the recipient under a fresh one-time key; kind 1059 with a `p` tag."""
    recipient = public_key_hex(recipient_pubkey)
    ephemeral = PrivateKey.generate()
    key = conversation_key(ephemeral, recipient, cache=False)
    content = encrypt(seal_event.to_json(), key)
    return sign_event(
        ephemeral, GIFT_WRAP_KIND, content, [["p", recipient]], random_past_timestamp()
    )


def wrap(sender: PrivateKey, recipient_pubkey: str, rumor: Rumor) -> Event:
    """Seal and gift-wrap `rumor` for one recipient."""
    return gift_wrap(seal(sender, recipient_pubkey, rumor), recipient_pubkey)


def unwrap(recipient: PrivateKey, wrap_event: Event) -> Unwrapped:
    """Open a gift wrap addressed to `recipient`, checking every layer; `Nip59Error` otherwise.

    The wrap's own signature is not checked again: the relay pool verified it,
    and it proves nothing about the author anyway (the seal's signature does).
    """
    if wrap_event.kind != GIFT_WRAP_KIND:
        raise Nip59Error(f"not a gift wrap: kind {wrap_event.kind}")
    seal_json = _open(recipient, wrap_event.pubkey, wrap_event.content, "gift wrap", once=True)
    try:
        seal_event = parse_event(seal_json)
    except InvalidEvent as error:
        raise Nip59Error(f"invalid seal: {error.reason}") from None
    if seal_event.kind != SEAL_KIND:
        raise Nip59Error(f"seal has kind {seal_event.kind}, not 13")
    rumor = _parse_rumor(_open(recipient, seal_event.pubkey, seal_event.content, "seal"))
    if rumor.pubkey != seal_event.pubkey:
        raise Nip59Error("seal pubkey differs from rumor pubkey (impersonation attempt)")
    return Unwrapped(rumor, seal_event.pubkey, seal_event, wrap_event)


def _open(recipient: PrivateKey, pubkey: str, content: str, layer: str, once: bool = False) -> str:
    """NIP-44-decrypt one layer, turning any failure into a Nip59Error naming the layer;
    `once` when `pubkey` is a one-time key (the wrap's), so nothing about it is kept.
    """
    try:
        key = conversation_key(recipient, pubkey, cache=not once, peer_is_ephemeral=once)
        return decrypt(content, key)
    except Nip44Error as error:
        raise Nip59Error(f"cannot decrypt {layer}: {error}") from None


def _parse_rumor(text: str) -> Rumor:
    """Check the rumor's shape and that its id recomputes; a signed rumor is refused."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise Nip59Error("rumor is not valid JSON") from None
    if not isinstance(raw, dict):
        raise Nip59Error("rumor is not a JSON object")
    if "sig" in raw:
        raise Nip59Error("rumor carries a signature (NIP-59 rumors must be unsigned)")
    rumor = _rumor_from(raw)
    try:
        expected = compute_id(rumor.pubkey, rumor.created_at, rumor.kind, rumor.tags, rumor.content)
    except UnicodeEncodeError:
        raise Nip59Error("rumor contains an unpaired surrogate") from None
    if expected != rumor.id:
        raise Nip59Error("rumor id does not match its content")
    return rumor


def _rumor_from(raw: dict[str, Any]) -> Rumor:
    """Type-check the six rumor fields and build the Rumor."""
    try:
        return Rumor(*check_unsigned(raw))
    except InvalidEvent as error:
        raise Nip59Error(f"invalid rumor: {error.reason}") from None
