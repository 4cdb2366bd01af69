"""NIP-01 filter matching: each condition exact, conditions ANDed, filters ORed."""

from __future__ import annotations

import pytest
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.filters import matches, matches_any
from nostrbazaar.nostr.keys import PrivateKey

KEY = PrivateKey.from_bytes(b"\x05" * 32)
OTHER = "ab" * 32
EVENT = sign_event(
    KEY,
    4,
    "x",
    [["p", OTHER, "wss://relay"], ["e", "cd" * 32], ["t", "shop"], ["t"], ["subject", "hi"]],
    created_at=1000,
)


@pytest.mark.parametrize(
    "filter_",
    [
        {},
        {"ids": [EVENT.id]},
        {"ids": ["00" * 32, EVENT.id]},
        {"authors": [KEY.public_key]},
        {"kinds": [1, 4]},
        {"#p": [OTHER]},
        {"#e": ["cd" * 32]},
        {"#t": ["nope", "shop"]},
        {"#subject": ["hi"]},
        {"since": 1000},
        {"until": 1000},
        {"since": 999, "until": 1001, "kinds": [4], "#p": [OTHER], "authors": [KEY.public_key]},
        {"limit": 0},
        {"search": "anything"},
    ],
)
def test_event_matches(filter_):
    assert matches(filter_, EVENT)


@pytest.mark.parametrize(
    "filter_",
    [
        {"ids": []},
        {"ids": [EVENT.id[:8]]},
        {"ids": [EVENT.id.upper()]},
        {"authors": [KEY.public_key[:10]]},
        {"kinds": [1]},
        {"kinds": []},
        {"#p": ["cd" * 32]},
        {"#p": ["wss://relay"]},
        {"#x": [OTHER]},
        {"#t": []},
        {"since": 1001},
        {"until": 999},
        {"kinds": [4], "since": 1001},
    ],
)
def test_event_does_not_match(filter_):
    assert not matches(filter_, EVENT)


def test_matches_any_is_an_or_over_filters_and_false_for_none():
    assert matches_any([{"kinds": [1]}, {"kinds": [4]}], EVENT)
    assert not matches_any([{"kinds": [1]}, {"since": 2000}], EVENT)
    assert not matches_any([], EVENT)


def test_tag_values_may_be_given_as_a_set():
    assert matches({"#p": {OTHER}}, EVENT)
