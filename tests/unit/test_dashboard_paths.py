"""The dashboard builds every API path from data through `NB.api.path`, which encodes each
value as one path segment (an id holding `/`, `?`, `#` or `%` never names another route)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"
# A template literal that starts a path ("`/...") and interpolates a value as a segment
# (right after a "/", before any "?"): `/order${query}` appends a built query string.
_RAW_PATH = re.compile(r"(?<![\w.])`/[^`?]*/\$\{")


def dashboard_scripts() -> list[Path]:
    return sorted([*STATIC.glob("components/*/*.js"), *STATIC.glob("js/*.js")])


def test_no_dashboard_script_interpolates_data_into_a_path_without_encoding() -> None:
    raw = [
        f"{script.relative_to(STATIC)}: {line.strip()}"
        for script in dashboard_scripts()
        for line in script.read_text(encoding="utf-8").splitlines()
        if _RAW_PATH.search(line)
    ]
    assert raw == []


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_path_encodes_each_value_as_one_segment() -> None:
    script = (
        "globalThis.window = globalThis; globalThis.sessionStorage = {getItem: () => null};"
        + (STATIC / "js" / "api.js").read_text(encoding="utf-8")
        + "\nconst p = NB.api.path;"
        + "console.log(JSON.stringify([p`/order/${'a/b?c#d%e f'}/cancel`,"
        + " p`/stall/product/${'s 1'}?pending=true`, p`/order/${'o-1.2:x_y'}`]));"
    )
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(out.stdout) == [
        "/order/a%2Fb%3Fc%23d%25e%20f/cancel",
        "/stall/product/s%201?pending=true",
        "/order/o-1.2%3Ax_y",
    ]
