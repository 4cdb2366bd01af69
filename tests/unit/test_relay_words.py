"""Relay health in plain words (static/js/relays.js, run by node): each state, the header's
summary of all of them, and why a publication waits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "relays.js"
A, B = "ws://127.0.0.1:7000", "wss://relay.example.org/"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(call: str, *args: Any) -> Any:
    values = ", ".join(json.dumps(arg) for arg in args)
    ask = f"\nconsole.log(JSON.stringify({call}({values})));"
    script = SCRIPT.read_text(encoding="utf-8") + ask
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(out.stdout)


def test_each_state_reads_as_words_with_a_colour() -> None:
    assert run("NB.relays.describe", "connected") == {
        "text": "connected", "tone": "positive", "up": True}  # fmt: skip
    refused = "error: connection refused ([Errno 111] Connect call failed ('127.0.0.1', 1))"
    assert run("NB.relays.describe", refused)["text"] == "down: not answering (connection refused)"
    assert run("NB.relays.describe", "error: [Errno -2] Name or service not known")["text"] == (
        "down: its address was not found"
    )
    odd = run("NB.relays.describe", "error: blocked: [Errno 5] odd")
    assert odd["text"] == "down: blocked: odd"
    assert run("NB.relays.describe", "disconnected")["text"] == "down"
    assert run("NB.relays.describe", {"status": "connecting"})["text"] == "connecting…"


def test_the_header_says_when_the_only_relay_is_down_and_that_nothing_is_lost() -> None:
    down = run("NB.relays.summary", {A: "error: refused"})
    assert (down["label"], down["tone"]) == ("Relay down", "negative")
    assert "nothing is lost" in down["detail"]
    assert run("NB.relays.summary", {A: "connected"})["label"] == "Relay connected"
    assert run("NB.relays.summary", {A: "connected", B: "disconnected"})["label"] == (
        "1 of 2 relays down"
    )
    assert run("NB.relays.summary", {A: "connecting", B: "disconnected"})["label"] == (
        "No relay connected"
    )
    assert run("NB.relays.summary", {})["tone"] == "grey-7"


def test_a_waiting_publication_says_which_relay_answered_what() -> None:
    pending = {"status": "pending", "relays": {
        A: {"ok": False, "message": "error: not connected", "at": 1},
        B: {"ok": True, "message": "", "at": 1}}}  # fmt: skip
    assert run("NB.relays.publicationWhy", pending) == (
        "Waiting: 127.0.0.1:7000: not connected. Trying again."
    )
    assert run("NB.relays.publicationWhy", {"status": "pending", "relays": {}}) == (
        "Waiting: no relay reached yet; it is sent when one connects."
    )
    failed = {"status": "failed", "relays": {B: {"ok": False, "message": "blocked: spam"}}}
    assert run("NB.relays.publicationWhy", failed) == (
        "Not published: relay.example.org: blocked: spam. Republish from the Merchant tab."
    )
    for done in ({"status": "sent", "relays": {}}, {"status": "external"}, None):
        assert run("NB.relays.publicationWhy", done) == ""
