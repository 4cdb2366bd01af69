"""`nostrbazaar account create NAME`: accounts for servers where sign-up is turned off."""

from __future__ import annotations

import asyncio

import httpx
from asgi_lifespan import LifespanManager
from nostrbazaar.app import create_app
from nostrbazaar.cli import main
from nostrbazaar.config import Settings


def test_account_create_prints_keys_that_work_with_signup_off(tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("NOSTRBAZAAR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NOSTRBAZAAR_SECRET", "cli-test")
    assert main(["account", "create", "Corner shop"]) == 0
    printed = dict(
        line.split(":", 1) for line in capsys.readouterr().out.splitlines() if ":" in line
    )
    admin_key = printed["adminkey"].strip()
    closed = Settings(data_dir=data_dir, secret="cli-test", allow_signup=False)
    created, refused = asyncio.run(use_server(closed, admin_key))
    assert created == 200
    assert refused == 403


async def use_server(settings, admin_key):
    """(status of creating a merchant with the key, status of signing up) on a live app."""
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"X-Api-Key": admin_key}
            created = await client.post("/api/v1/merchant", json={}, headers=headers)
            refused = await client.post("/api/v1/account", json={"name": "x"})
    return created.status_code, refused.status_code


def test_account_create_refuses_an_empty_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOSTRBAZAAR_DATA_DIR", str(tmp_path / "data"))
    assert main(["account", "create", "   "]) == 2
    assert "1 to 100 characters" in capsys.readouterr().err
