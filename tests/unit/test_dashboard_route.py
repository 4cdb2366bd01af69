"""The dashboard's addresses (static/js/route.js, run by node): "#/orders/<id>" names an order,
"#/chat/<key>" a conversation, "#/<tab>" a tab; ids travel as one encoded segment."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "route.js"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(expression: str) -> Any:
    script = SCRIPT.read_text(encoding="utf-8") + f"\nconsole.log(JSON.stringify({expression}));"
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(out.stdout)


def test_an_order_address_names_the_tab_and_the_order() -> None:
    assert run('NB.route.parse("#/orders/ab12")') == {"tab": "orders", "id": "ab12"}
    assert run('NB.route.parse("#/chat")') == {"tab": "chat", "id": None}
    assert run('NB.route.parse("#/catalogue/")') == {"tab": "catalogue", "id": None}


def test_any_id_goes_there_and_back_as_one_segment() -> None:
    odd = "a/b?c#d%e f"
    built = run(f"NB.route.build('orders', {json.dumps(odd)})")
    assert built == "#/orders/a%2Fb%3Fc%23d%25e%20f"
    assert run(f"NB.route.parse({json.dumps(built)})") == {"tab": "orders", "id": odd}


def test_anything_else_names_nothing() -> None:
    for hash_ in ("", "#", "#/", "#/admin/1", "orders", "#/orders/%E0%A4%A"):
        found = run(f"NB.route.parse({json.dumps(hash_)})")
        assert found["id"] is None and (found["tab"] in (None, "orders")), hash_
    assert run('NB.route.build("nowhere")') == "#/orders"
