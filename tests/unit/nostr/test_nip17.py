"""NIP-17: kind 14 chat messages wrapped for the recipient and for the sender, and kind 10050."""

from __future__ import annotations

import pytest
from nostrbazaar.nostr import nip17, nip59
from nostrbazaar.nostr.event import verify_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip59 import Nip59Error

MERCHANT = PrivateKey.from_bytes(b"\x11" * 32)
CUSTOMER = PrivateKey.from_bytes(b"\x22" * 32)


def test_chat_message_is_a_kind_14_rumor_tagging_the_recipient_first():
    rumor, _ = nip17.chat_message(
        CUSTOMER, MERCHANT.public_key, "order", [["subject", "Order 7"]], created_at=1700000000
    )
    assert rumor.kind == 14
    assert rumor.pubkey == CUSTOMER.public_key
    assert rumor.created_at == 1700000000
    assert rumor.tags == [["p", MERCHANT.public_key], ["subject", "Order 7"]]


def test_one_wrap_goes_to_the_recipient_and_one_to_the_sender():
    rumor, wraps = nip17.chat_message(CUSTOMER, MERCHANT.public_key, '{"type": 0}')
    for_merchant, for_self = wraps
    assert for_merchant.tags == [["p", MERCHANT.public_key]]
    assert for_self.tags == [["p", CUSTOMER.public_key]]
    assert all(verify_event(w.to_dict()) is None for w in wraps)
    assert nip17.receive(MERCHANT, for_merchant).rumor == rumor
    assert nip17.receive(CUSTOMER, for_self).rumor == rumor


def test_the_recipient_cannot_open_the_senders_copy():
    _, (_, for_self) = nip17.chat_message(CUSTOMER, MERCHANT.public_key, "hi")
    with pytest.raises(Nip59Error, match="cannot decrypt gift wrap"):
        nip17.receive(MERCHANT, for_self)


def test_received_message_names_its_authenticated_sender():
    _, (wrap, _) = nip17.chat_message(CUSTOMER, MERCHANT.public_key, "hi")
    assert nip17.receive(MERCHANT, wrap).sender_pubkey == CUSTOMER.public_key


def test_file_message_kind_15_is_accepted():
    rumor = nip59.make_rumor(CUSTOMER.public_key, 15, "https://x/f", [["p", MERCHANT.public_key]])
    assert (
        nip17.receive(MERCHANT, nip59.wrap(CUSTOMER, MERCHANT.public_key, rumor)).rumor.kind == 15
    )


def test_gift_wrap_holding_another_kind_is_not_a_direct_message():
    rumor = nip59.make_rumor(CUSTOMER.public_key, 1, "public note")
    with pytest.raises(Nip59Error, match="not a NIP-17 message"):
        nip17.receive(MERCHANT, nip59.wrap(CUSTOMER, MERCHANT.public_key, rumor))


def test_dm_relays_event_lists_relay_tags():
    event = nip17.dm_relays_event(MERCHANT, ["wss://inbox.example", "wss://dm.example"])
    assert (event.kind, event.content) == (10050, "")
    assert event.tags == [["relay", "wss://inbox.example"], ["relay", "wss://dm.example"]]
    assert verify_event(event.to_dict()) is None
