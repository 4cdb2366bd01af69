"""NIP-01 filter matching, for checking what a relay sends against what we asked for.

A filter's conditions are ANDed, a list of filters is ORed. Values match
exactly (no prefixes). `limit` only shapes a relay's initial query, so matching
ignores it, as it ignores keys it does not know (e.g. NIP-50 `search`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .event import Event


def matches(filter: Mapping[str, Any], event: Event) -> bool:  # noqa: A002 - NIP-01's word
    """True when `event` satisfies every condition in `filter`."""
    for name, wanted in filter.items():
        if not _condition_holds(name, wanted, event):
            return False
    return True


def matches_any(filters: Iterable[Mapping[str, Any]], event: Event) -> bool:
    """True when `event` satisfies at least one of `filters`."""
    return any(matches(one, event) for one in filters)


def _condition_holds(name: str, wanted: Any, event: Event) -> bool:
    """One filter key against the event; unknown keys and `limit` always hold."""
    if name == "ids":
        return event.id in wanted
    if name == "authors":
        return event.pubkey in wanted
    if name == "kinds":
        return event.kind in wanted
    if name == "since":
        return bool(event.created_at >= wanted)
    if name == "until":
        return bool(event.created_at <= wanted)
    if name.startswith("#") and len(name) > 1:
        return _has_tag_value(event, name[1:], wanted)
    return True


def _has_tag_value(event: Event, tag_name: str, wanted: Iterable[str]) -> bool:
    """True when the first value of some `tag_name` tag is among `wanted`."""
    values = wanted if isinstance(wanted, set | frozenset) else set(wanted)
    return any(len(tag) > 1 and tag[0] == tag_name and tag[1] in values for tag in event.tags)
