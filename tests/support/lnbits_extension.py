"""nostrbazaar installed into a real LNbits the way an admin does it, for tests/lnbits.

- the packaged extension (`scripts/package.py`) served on 127.0.0.1 as an extension
  source: its `manifest.json` and zip, by a plain HTTP server in a thread;
- LNbits 1.6.2 (`support.lnbits_server`) started with its own extensions folder and
  the nostrbazaar settings the admin would put in its environment;
- the super user adds the manifest URL (`PATCH /admin/api/v1/settings`), lists the
  releases (`GET /api/v1/extension/{id}/releases`) and installs one (`POST /api/v1/extension`);
- a user registers (`POST /api/v1/auth/register`) and enables it (`PUT .../{id}/enable`).
"""

from __future__ import annotations

import functools
import importlib.util
import secrets
import threading
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from nostrbazaar.engine.embedded_relay import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
EXT_ID = "nostrbazaar"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, fmt: str, *args: Any) -> None:  # requests are not news
        pass


class DirectoryServer:
    """A folder served over HTTP on 127.0.0.1 (an extension source), in a thread."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        handler = functools.partial(_Quiet, directory=str(directory))
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def build_package(out: Path, base_url: str) -> tuple[Path, Path]:
    """`make package` into `out`, the archive URL starting with `base_url`."""
    spec = importlib.util.spec_from_file_location(
        "package_script", REPO_ROOT / "scripts/package.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    zip_path, manifest = module.build(out, base_url)
    return zip_path, manifest


def ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; anything else fails with the answer's text."""
    assert response.status_code < 300, (
        f"{response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


async def install(http: httpx.AsyncClient, admin_token: str, manifest_url: str) -> dict[str, Any]:
    """What an admin does: add the source, pick its release, install it."""
    bearer = {"Authorization": f"Bearer {admin_token}"}
    ok(
        await http.patch(
            "/admin/api/v1/settings",
            headers=bearer,
            json={"lnbits_extensions_manifests": [manifest_url]},
        )
    )
    releases = ok(await http.get(f"/api/v1/extension/{EXT_ID}/releases", headers=bearer))
    [release] = [r for r in releases if r["source_repo"] == manifest_url]
    body = {
        "ext_id": EXT_ID,
        "archive": release["archive"],
        "source_repo": release["source_repo"],
        "version": release["version"],
    }
    installed: dict[str, Any] = ok(
        await http.post("/api/v1/extension", headers=bearer, json=body, timeout=120)
    )
    return installed


@dataclass
class LNbitsUser:
    """An LNbits user with one wallet: its keys, and a session token."""

    id: str
    wallet_id: str
    adminkey: str
    inkey: str
    token: str


async def new_user(http: httpx.AsyncClient, name: str) -> LNbitsUser:
    """A new LNbits user, registered with a password (its first wallet made by LNbits)."""
    password = secrets.token_hex(12)
    session = ok(
        await http.post(
            "/api/v1/auth/register",
            json={"username": name, "password": password, "password_repeat": password},
        )
    )
    token = session["access_token"]
    user = ok(await http.get("/api/v1/auth", headers={"Authorization": f"Bearer {token}"}))
    wallet = user["wallets"][0]
    return LNbitsUser(user["id"], wallet["id"], wallet["adminkey"], wallet["inkey"], token)


async def enable(http: httpx.AsyncClient, user: LNbitsUser) -> None:
    """The user turns the extension on for themselves."""
    headers = {"Authorization": f"Bearer {user.token}"}
    ok(await http.put(f"/api/v1/extension/{EXT_ID}/enable", headers=headers))
