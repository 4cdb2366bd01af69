"""A restart of `make run`'s server changes nothing a customer sees: the real
`nostrbazaar serve` (embedded relay, fake wallet) stopped and started on one data
directory keeps its relay URL and the catalogue on it, and an order placed before the
restart is still followed through that relay (paid after the restart, the customer
hears it)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import nostr_sdk as sdk
import pytest
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import order_content
from support.relay_customer import RelayCustomer, of_type

STARTUP_TIMEOUT = 30.0


class Server:
    """`nostrbazaar serve` on fixed ports and one data directory; start, stop, start."""

    def __init__(self, data_dir: Path) -> None:
        self.port, self.relay_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "serve.log"
        self.env = {
            **os.environ,
            "NOSTRBAZAAR_DATA_DIR": str(data_dir),
            "NOSTRBAZAAR_HOST": "127.0.0.1",
            "NOSTRBAZAAR_PORT": str(self.port),
            "NOSTRBAZAAR_EMBEDDED_RELAY_PORT": str(self.relay_port),
            "NOSTRBAZAAR_WALLET": "fake",
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        script = shutil.which("nostrbazaar", path=str(Path(sys.executable).parent))
        command = (
            [script, "serve"] if script else [sys.executable, "-m", "nostrbazaar.cli", "serve"]
        )
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient() as http:
            for _ in range(int(STARTUP_TIMEOUT * 10)):
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log.read_text()}")
                try:
                    if (await http.get(f"{self.url}/api/v1/health", timeout=1)).is_success:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server never answered:\n{self.log.read_text()}")

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C on `make run`; SIGKILL only if it hangs."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError("the server did not stop on SIGTERM") from None
        finally:
            self.process = None


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    running = Server(tmp_path / "data")
    await running.start()
    yield running
    running.stop()


async def open_shop(http: httpx.AsyncClient, key: PrivateKey) -> tuple[dict[str, str], str, str]:
    """Account, merchant (our key), zone, stall, product: (admin header, zone id, product id)."""
    account = (await http.post("/api/v1/account", json={"name": "Tea"})).json()
    admin = {"X-Api-Key": account["adminkey"]}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(f"/api/v1{path}", json=body, headers=admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    await post("/merchant", {"private_key": key.hex, "config": {"name": "Tea"}})
    zone = await post("/zone", {"name": "Europe", "currency": "sat", "cost": 2,
                                "countries": ["PT"]})  # fmt: skip
    stall = await post("/stall", {"name": "Teas", "currency": "sat",
                                  "shipping_zones": [zone["id"]]})  # fmt: skip
    product = await post("/product", {"stall_id": stall["id"], "name": "Sencha",
                                      "price": 100, "quantity": 5})  # fmt: skip
    return admin, zone["id"], product["id"]


async def listings(relay_url: str, merchant: str) -> list[str]:
    """The `d` of each product (kind 30018) the merchant has on the relay."""
    client = sdk.Client()
    await client.add_relay(sdk.RelayUrl.parse(relay_url))
    await client.connect(timedelta(seconds=5))
    try:
        query = sdk.Filter().kind(sdk.Kind(30018)).author(sdk.PublicKey.parse(merchant))
        events = await client.fetch_events(sdk.ReqTarget.auto([query]), timedelta(seconds=2))
        return [json.loads(e.as_json())["tags"][0][1] for e in events]
    finally:
        await client.shutdown()


async def eventually_listed(relay_url: str, merchant: str, product_id: str) -> None:
    for _ in range(50):
        if product_id in await listings(relay_url, merchant):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"product {product_id} never reached the relay")


async def test_a_restart_keeps_the_relay_url_the_catalogue_and_the_orders_in_progress(
    server: Server,
) -> None:
    key = PrivateKey.generate()
    async with httpx.AsyncClient(base_url=server.url) as http:
        admin, zone, product = await open_shop(http, key)
        before = (await http.get("/market/config.json")).json()
    relay_url = f"ws://127.0.0.1:{server.relay_port}"
    assert before["relays"] == [relay_url]
    await eventually_listed(relay_url, key.public_key, product)

    customer = RelayCustomer([relay_url])
    await customer.connect()
    await customer.send(
        customer.me.nip04(key.public_key, order_content("o-1", [(product, 1)], zone))
    )
    replies = await customer.wait_for(key.public_key, lambda r: bool(of_type(r, 1)))
    bolt11 = of_type(replies, 1)[0]["payment_options"][0]["link"]
    await customer.close()

    server.stop()
    await server.start()

    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/market/config.json")).json() == before
        assert product in await listings(relay_url, key.public_key)
        paid = await http.post("/api/v1/fakewallet/pay", json={"bolt11": bolt11})
        assert paid.status_code == 200, paid.text
        again = RelayCustomer([relay_url])
        again.me = customer.me  # the same customer, reconnecting to the same URL
        await again.connect()
        try:
            replies = await again.wait_for(
                key.public_key, lambda r: any(m.get("paid") for m in of_type(r, 2))
            )
        finally:
            await again.close()
        status = (await http.get("/api/v1/order/o-1", headers=admin)).json()["status"]
    assert status == "paid"
    assert [m["type"] for m in replies if isinstance(m, dict)] == [1, 2]
