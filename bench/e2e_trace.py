"""`bench/end_to_end.py --trace`: where an order's latency goes, stage by stage.

Wall-clock stamps (`time.time()`, one clock for both processes on this machine) taken
by wrapping, in the merchant's process only, the relay connection's frame handling
and sends, the pool's verification, the engine's call of `ingest_event` and the
outbox publisher's attempt; the customer process adds when it published, when the
relay's OK for the order reached it and when the payment request did. For
attributing latency, not for the headline figure (the wrappers cost a little).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from .common import percentiles

# (stage, from stamp, to stamp); the stamps of one order, in the order they happen.
STAGES = (
    ("1 customer publish -> relay's OK at the customer", "published", "accepted"),
    ("2 customer publish -> frame at the merchant's pool", "published", "arrived"),
    ("3 frame -> verified", "arrived", "verified"),
    ("4 verified -> ingest starts (engine queue)", "verified", "ingest_start"),
    ("5 ingest, until committed", "ingest_start", "ingest_end"),
    ("6 committed -> publisher picks the outbox row", "ingest_end", "picked"),
    ("7 picked -> EVENT frame sent", "picked", "frame_sent"),
    ("8 frame sent -> relay's OK", "frame_sent", "ok"),
    ("9 frame sent -> payment request at the customer", "frame_sent", "received"),
)


class Tracer:
    """Install the wrappers, collect stamps by event id and by order id, undo on exit."""

    def __init__(self) -> None:
        self.by_event: dict[str, dict[str, float]] = defaultdict(dict)
        self.by_order: dict[str, dict[str, float]] = defaultdict(dict)
        self.order_of: dict[str, str] = {}  # order's event id -> order id
        self.reply_of: dict[str, str] = {}  # order id -> payment request's event id
        self._undo: list[tuple[Any, str, Any]] = []

    def _stamp(self, table: dict[str, dict[str, float]], key: str, name: str) -> None:
        table[key].setdefault(name, time.time())

    def install(self) -> None:
        from nostrbazaar.engine import background, publisher
        from nostrbazaar.nostr import relay, relay_pool

        self._patch(relay.Relay, "_on_frame", self._traced_frame(relay.Relay._on_frame))
        self._patch(relay.Relay, "send", self._traced_send(relay.Relay.send))
        self._patch(
            relay_pool.RelayPool, "_verify", self._traced_verify(relay_pool.RelayPool._verify)
        )
        self._patch(background, "ingest_batch", self._traced_ingest(background.ingest_batch))
        self._patch(
            publisher.Publisher, "_attempt", self._traced_attempt(publisher.Publisher._attempt)
        )

    def _traced_frame(self, on_frame: Any) -> Any:
        async def traced(relay: Any, frame: Any) -> None:
            if isinstance(frame, str) and frame.startswith('["EVENT"'):
                self._stamp(self.by_event, _event_id(frame), "arrived")
            await on_frame(relay, frame)

        return traced

    def _traced_verify(self, verify: Any) -> Any:
        def traced(pool: Any, relay_url: str, raw: object) -> Any:
            event = verify(pool, relay_url, raw)
            if event is not None:
                self._stamp(self.by_event, event.id, "verified")
            return event

        return traced

    def _traced_ingest(self, ingest: Any) -> Any:
        async def traced(*args: Any, **kwargs: Any) -> Any:
            ids = [event.id for event, _ in args[2]]  # the batch's events
            for event_id in ids:
                self._stamp(self.by_event, event_id, "ingest_start")
            verdicts = await ingest(*args, **kwargs)
            for event_id, verdict in zip(ids, verdicts, strict=True):
                self._stamp(self.by_event, event_id, "ingest_end")
                if verdict.order_id:
                    self.order_of[event_id] = verdict.order_id
            return verdicts

        return traced

    def _traced_send(self, send: Any) -> Any:
        async def traced(relay: Any, message: list[Any]) -> None:
            await send(relay, message)
            if message[0] == "EVENT" and isinstance(message[1], dict):
                self._stamp(self.by_event, message[1]["id"], "frame_sent")

        return traced

    def _traced_attempt(self, attempt: Any) -> Any:
        async def traced(publisher: Any, row: Any) -> Any:
            if row.purpose != "order:type1" or not row.order_id:
                return await attempt(publisher, row)
            self._stamp(self.by_order, row.order_id, "picked")
            self.reply_of.setdefault(row.order_id, row.event_id)
            result = await attempt(publisher, row)
            self._stamp(self.by_order, row.order_id, "ok")
            return result

        return traced

    def _patch(self, owner: Any, name: str, new: Any) -> None:
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    def uninstall(self) -> None:
        for owner, name, old in reversed(self._undo):
            setattr(owner, name, old)
        self._undo.clear()

    def stages(self, customer: dict[str, dict[str, float]]) -> dict[str, Any]:
        """Percentiles of each stage over the orders that have both of its stamps."""
        parts: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
        order_event = {order: event for event, order in self.order_of.items()}
        for order_id, stamps in customer.items():
            merged = dict(stamps)
            merged |= self.by_event.get(order_event.get(order_id, ""), {})
            merged |= self.by_order.get(order_id, {})
            reply = self.by_event.get(self.reply_of.get(order_id, ""), {})
            if "frame_sent" in reply:
                merged["frame_sent"] = reply["frame_sent"]
            for name, start, end in STAGES:
                if start in merged and end in merged:
                    parts[name].append(merged[end] - merged[start])
        return {name: percentiles(values) for name, values in parts.items()}


def _event_id(frame: str) -> str:
    """The id in an EVENT frame, found without parsing it twice (the relay's JSON is
    compact: `"id":"<64 hex>"`; quotes inside strings are escaped)."""
    at = frame.find('"id":"')
    return frame[at + 6 : at + 70] if at >= 0 else ""
