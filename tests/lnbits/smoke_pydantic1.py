"""Run by LNbits' own Python: the standalone app's routes on pydantic 1.10 and coincurve.

LNbits 1.6.2's venv has pydantic 1.10, coincurve and neither `secp256k1` nor
`orjson`. This script (started by `test_pydantic1_smoke.py` with the packaged
extension on its path) serves the app over ASGI, walks the API once and prints
each answer as one JSON line: `[name, status, body]`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx


async def walk(http: httpx.AsyncClient) -> list[tuple[str, int, Any]]:
    seen: list[tuple[str, int, Any]] = []

    async def call(name: str, method: str, path: str, key: str = "", **kw: Any) -> Any:
        headers = {"X-Api-Key": key} if key else {}
        response = await http.request(method, "/api/v1" + path, headers=headers, **kw)
        body = response.json() if response.content else None
        seen.append((name, response.status_code, body))
        return body

    account = await call("account", "POST", "/account", json={"name": "Tea"})
    admin, read = account["adminkey"], account["inkey"]
    await call("bad key", "POST", "/merchant", admin, json={"private_key": "nope"})
    await call("merchant", "POST", "/merchant", admin, json={"config": {"name": "Tea"}})
    await call("unknown field", "POST", "/zone", admin, json={"name": "EU", "colour": "red"})
    zone = await call("zone", "POST", "/zone", admin, json={"name": "EU", "cost": "12.50"})
    stall = await call(
        "stall", "POST", "/stall", admin,
        json={"name": " Green ", "shipping_zones": [{"id": zone["id"], "x": 1}],
              "config": {"description": "teas"}},
    )  # fmt: skip
    body = {"stall_id": stall["id"], "name": "Sencha", "price": 2100, "quantity": 5,
            "images": ["https://example.com/s.png"], "categories": [" tea "],
            "config": {"specs": [["origin", "Shizuoka"]]}}  # fmt: skip
    product = await call("product", "POST", "/product", admin, json=body)
    await call("string quantity", "POST", "/product", admin, json={**body, "quantity": "5"})
    await call("ftp image", "POST", "/product", admin, json={**body, "images": ["ftp://x/y"]})
    await call("patch", "PATCH", f"/product/{product['id']}", admin, json={"quantity": 3})
    await call("invoice key write", "POST", "/zone", read, json={"name": "x"})
    await call("orders", "GET", "/order?total=true", read)
    await call("bad pubkey", "GET", "/order?pubkey=nope", read)
    await call("delete", "DELETE", f"/product/{product['id']}", admin)
    await call("health", "GET", "/health")
    openapi = await http.get("/openapi.json")
    market = await http.get("/market")
    seen += [("openapi", openapi.status_code, None), ("market", market.status_code, None)]
    return seen


async def main(data_dir: Path) -> None:
    from nostrbazaar.app import create_app
    from nostrbazaar.config import Settings
    from nostrbazaar.nostr import secp

    # No embedded relay (LNbits' nostr-sdk is built without one): a relay that is not there.
    settings = Settings(data_dir=data_dir, secret="smoke", relays=("ws://127.0.0.1:9",))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            seen = await walk(http)
    import pydantic

    print(json.dumps(["versions", pydantic.VERSION, secp.current.name]))
    for line in seen:
        print(json.dumps(line))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
