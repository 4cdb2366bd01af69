"""One error shape, {"detail": ...}, with the status each error deserves; never an echo of input."""

from __future__ import annotations

import httpx
from loguru import logger
from nostrbazaar.services import catalogue


async def test_validation_errors_list_location_message_and_type_only(client, alice):
    response = await client.post(
        "/api/v1/zone", json={"currency": "sat", "cost": "lots"}, headers=alice.admin
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert set(problem) == {"loc", "msg", "type"}
    assert problem["loc"] == ["body", "cost"]
    assert "lots" not in response.text


async def test_a_body_that_is_not_json_is_refused_with_detail(client, alice):
    response = await client.post(
        "/api/v1/zone",
        content=b"{not json",
        headers={**alice.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_not_found_and_conflict_use_the_detail_shape(client, alice):
    missing = await client.get("/api/v1/stall/nope", headers=alice.reader)
    assert missing.json() == {"detail": "stall not found"}
    taken = await client.post("/api/v1/merchant", json={}, headers=alice.admin)
    assert taken.json() == {"detail": "this account already has a merchant"}


async def test_a_wrong_method_is_405_naming_every_allowed_method(client):
    response = await client.request("OPTIONS", "/api/v1/merchant")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
    literal = await client.request("OPTIONS", "/api/v1/order/reissue")
    assert literal.headers["allow"] == "PUT"


async def test_an_unexpected_failure_is_logged_with_its_path_and_answered_500(
    app, alice, monkeypatch
):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(catalogue, "list_zones", broken)
    logged: list[str] = []
    sink = logger.add(lambda message: logged.append(str(message)), level="ERROR")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/api/v1/zone", headers=alice.reader)
    finally:
        logger.remove(sink)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; it has been logged"}
    assert "disk on fire" not in response.text
    assert any("/api/v1/zone" in line and "disk on fire" in line for line in logged)
