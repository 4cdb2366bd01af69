"""The order timeline in a merchant's words (static/js/timeline.js, run by node): events as
titles and details, amounts in sats, the expiry as a local time, unit prices from the log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "timeline.js"
NOW = 1_796_482_320  # 2026-12-05 14:52 UTC
NAMES = {"p1": "Coffee beans", "p2": "Tea"}

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(expression: str) -> Any:
    """Evaluate `expression` (JSON-encodable) in node with timeline.js loaded, in UTC."""
    script = SCRIPT.read_text(encoding="utf-8") + f"\nconsole.log(JSON.stringify({expression}));"
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True,
        env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    return json.loads(out.stdout)


def describe(type_: str, data: dict[str, Any]) -> list[str]:
    event = json.dumps({"type": type_, "data": data, "created_at": NOW})
    context = json.dumps({"names": NAMES, "now": NOW})
    found = run(f"NB.timeline.describe({event}, {context})")
    return [found["title"], found["detail"], found["tone"]]


def test_an_invoice_reads_as_sent_with_its_amount_in_sats_and_its_expiry_time() -> None:
    invoice = {"payment_hash": "ab" * 32, "bolt11": "lnbc1", "amount_msat": 4_700_000,
               "expires_at": NOW + 3600}  # fmt: skip
    assert describe("InvoiceIssued", {"invoice": invoice, "quote": {}, "adopted": False}) == [
        "Invoice sent: 4,700 sats, expires 15:52", "", ""]  # fmt: skip
    later = {**invoice, "expires_at": NOW + 3 * 86400}
    assert describe("InvoiceIssued", {"invoice": later, "adopted": True})[:2] == [
        "Invoice sent: 4,700 sats, expires 8 Dec 14:52",
        "your earlier invoice, found on the relays",
    ]


def test_the_log_words_become_a_merchants_words() -> None:
    details = {"customer": "c", "items": [{"product_id": "p1", "quantity": 2},
               {"product_id": "gone", "quantity": 1}]}  # fmt: skip
    assert describe("OrderPlaced", {"details": details})[:2] == [
        "Order placed", "2 \u00d7 Coffee beans, 1 \u00d7 gone"]  # fmt: skip
    assert describe("OrderPaid", {"payment_hash": "h", "by": "wallet"})[:2] == ["Paid", ""]
    assert describe("PaymentReceived", {"amount_msat": 4_700_500, "source": "wallet"})[0] == (
        "Payment received: 4,700.5 sats"
    )
    shipped = {"message": "Posted today", "by": "api", "tracking": "RR1", "carrier": "CTT"}
    assert describe("OrderShipped", shipped)[:2] == [
        "Shipped: Posted today", "tracking RR1 · with CTT"]  # fmt: skip
    assert describe("OrderShipped", {"message": "", "by": "api"})[:2] == ["Shipped", ""]
    assert describe("StockReserved", {"items": [{"product_id": "p2", "quantity": 1}]})[:2] == [
        "Stock held", "1 \u00d7 Tea"]  # fmt: skip
    assert describe("OrderRejected", {"reason": "sold out"}) == [
        "Order refused", "sold out", "negative"]  # fmt: skip
    refund = {"payment_hash": "h", "amount_msat": 1_000, "reason": "the order was cancelled"}
    assert describe("RefundNeeded", refund)[:2] == [
        "Refund needed: 1 sats", "the order was cancelled"]  # fmt: skip
    assert describe("OrderCancelled", {"reason": ""})[0] == "Cancelled"


def test_no_raw_field_names_reach_the_merchant() -> None:
    for type_, data in [
        ("InvoiceIssued", {"invoice": {"amount_msat": 1000, "expires_at": NOW}, "adopted": False}),
        ("OrderPaid", {"payment_hash": "h", "by": "api"}),
        ("OrderShipped", {"message": "x", "by": "api"}),
        ("InvoiceExpired", {"payment_hash": "ab"}),
    ]:
        words = " ".join(describe(type_, data))
        for raw in ("adopted", "msat", "by:", "payment_hash", type_):
            assert raw not in words, (type_, words)


def test_an_event_without_words_yet_reads_as_spaced_words_with_its_plain_values() -> None:
    assert describe("OrderRefundMarked", {"note": "sent back", "payment_hash": "h"}) == [
        "Order refund marked", "note: sent back", ""]  # fmt: skip


def test_unit_prices_and_the_expiry_come_from_the_newest_invoice() -> None:
    first = {
        "type": "InvoiceIssued",
        "data": {
            "invoice": {"expires_at": 1},
            "quote": {"lines": [{"product_id": "p1", "price": "900", "currency": "sat"}]},
        },
    }
    second = {
        "type": "InvoiceIssued",
        "data": {
            "invoice": {"expires_at": 2},
            "quote": {"lines": [{"product_id": "p1", "price": "12.5", "currency": "USD"}]},
        },
    }
    events = json.dumps([first, {"type": "InvoiceSuperseded", "data": {}}, second])
    assert run(f"[NB.timeline.unitPrices({events}), NB.timeline.expiresAt({events})]") == [
        {"p1": {"price": "12.5", "currency": "USD"}}, 2]  # fmt: skip
    assert run("NB.timeline.unitPrices([])") == {}
    assert run('[NB.timeline.times("12.50", 3), NB.timeline.times("0.05", 7),'
               ' NB.timeline.times("1000", 2), NB.timeline.price("37.5", "USD"),'
               ' NB.timeline.price("2000", "sat")]') == [
        "37.50", "0.35", "2000", "37.50 USD", "2,000 sats"]  # fmt: skip
