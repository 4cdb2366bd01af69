"""nostr-tools (JavaScript) as an independent peer: `tests/interop/js/nostr_peer.mjs` run with
the machine's node, a batch of operations in, their results out. Missing node or
nostr-tools fails the test and says how to install them (never a skip)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent.parent / "interop" / "js"
PEER = JS_DIR / "nostr_peer.mjs"


def run_peer(*requests: dict[str, Any]) -> list[Any]:
    """Each operation's value; a failed one as `{"error": message}`."""
    if not (JS_DIR / "node_modules" / "nostr-tools").is_dir():
        pytest.fail(
            "nostr-tools is not installed: run `make test-deps` (npm ci in tests/interop/js)"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js to run the nostr-tools interop tests")
    done = subprocess.run(
        [node, str(PEER)], input=json.dumps(list(requests)), capture_output=True, text=True,
        cwd=JS_DIR, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [result.get("ok", result) for result in json.loads(done.stdout)]
