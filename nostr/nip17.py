"""NIP-17 private direct messages: kind 14 chat rumors, gift-wrapped per NIP-59.

Every message is wrapped twice, once for the recipient and once for the sender,
so the sender's own history can be restored from relays like anyone else's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from .event import Event, sign_event
from .keys import PrivateKey
from .nip19 import public_key_hex
from .nip59 import Nip59Error, Rumor, Unwrapped, make_rumor, unwrap, wrap

CHAT_MESSAGE_KIND = 14
FILE_MESSAGE_KIND = 15
DM_RELAYS_KIND = 10050
MESSAGE_KINDS = frozenset((CHAT_MESSAGE_KIND, FILE_MESSAGE_KIND))


def chat_message(
    sender: PrivateKey,
    recipient_pubkey: str,
    content: str,
    tags: Sequence[Sequence[str]] = (),
    created_at: int | None = None,
    kind: int = CHAT_MESSAGE_KIND,
) -> tuple[Rumor, list[Event]]:
    """A kind-14 rumor `p`-tagging the recipient, and its wraps: [for recipient, for sender].

    Another `kind` carries a message of a protocol built on NIP-17 the same way (the
    market spec's kind 16 order messages, for one)."""
    recipient = public_key_hex(recipient_pubkey)
    all_tags = [["p", recipient], *(list(tag) for tag in tags)]
    rumor = make_rumor(sender.public_key, kind, content, all_tags, created_at)
    wraps = [wrap(sender, recipient, rumor), wrap(sender, sender.public_key, rumor)]
    return rumor, wraps


def receive(
    recipient: PrivateKey, wrap_event: Event, kinds: Collection[int] = MESSAGE_KINDS
) -> Unwrapped:
    """Unwrap a gift wrap and require a chat (14) or file (15) message inside (or one of
    `kinds`, for a protocol that carries other kinds in NIP-17 gift wraps)."""
    opened = unwrap(recipient, wrap_event)
    if opened.rumor.kind not in kinds:
        raise Nip59Error(f"gift wrap holds kind {opened.rumor.kind}, not a NIP-17 message")
    return opened


def dm_relays_event(key: PrivateKey, relays: Iterable[str]) -> Event:
    """Kind 10050: the relays where `key` wants to receive direct messages."""
    return sign_event(key, DM_RELAYS_KIND, "", [["relay", relay] for relay in relays])
