from nostrbazaar import __version__


async def test_health_reports_version_database_and_relays(client):
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == __version__
    assert body["database"] == "ok"
    assert len(body["relays"]) == 1
    assert next(iter(body["relays"])).startswith("ws://127.0.0.1:")


async def test_health_names_the_storage_engine_and_this_instance(client):
    storage = (await client.get("/api/v1/health")).json()["storage"]
    assert storage["engine"] == "sqlite" and storage["version"]
    assert storage["instance"]
