"""The dashboard websocket: one merchant's notifications, pushed as JSON.

The key is sent in the first message (`{"api_key": "..."}`), never in the URL,
where it would end up in access logs. A bad key closes the socket with 4401.
The socket subscribes to the bus for the key's merchant only, so another
merchant's orders, payments or messages cannot reach it. Relay health is pushed
too: `relay` with `{url, status}` whenever one of the relays the merchant depends
on (the server's and its own) changes state, so the header can say "Relay down"
within a second, not at the next poll.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from loguru import logger

from ..crud.merchants import MerchantRow, get_merchant, get_merchant_for_account
from ..engine.runtime import Runtime
from ..services.bus import Notification
from ..services.notifications import unread_count
from .auth import caller_from_key, runtime_of
from .common import DomainErrorRoute

router = APIRouter(route_class=DomainErrorRoute)

AUTH_TIMEOUT_SECONDS = 10.0
CLOSE_BAD_KEY = 4401
CLOSE_NO_MERCHANT = 4404
CLOSE_AUTH_TIMEOUT = 4408
RELAY_WATCH_SECONDS = 1.0


def _key_of(message: str) -> str | None:
    try:
        body = json.loads(message)
    except ValueError:
        return None
    key = body.get("api_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


async def _authenticate(websocket: WebSocket, runtime: Runtime) -> MerchantRow | None:
    """The merchant of the key in the first message; closes the socket and None otherwise."""
    try:
        with anyio.fail_after(AUTH_TIMEOUT_SECONDS):
            first = await _next_message(websocket)
    except TimeoutError:
        await websocket.close(CLOSE_AUTH_TIMEOUT, 'send {"api_key": ...} first')
        return None
    try:
        caller = await caller_from_key(runtime, _key_of(first))
    except HTTPException:  # the host's own key check refused it (unknown wallet, not enabled)
        caller = None
    if caller is None:
        await websocket.close(CLOSE_BAD_KEY, "invalid api key")
        return None
    merchant = await get_merchant_for_account(runtime.db, caller.account.id)
    if merchant is None:
        await websocket.close(CLOSE_NO_MERCHANT, "no merchant for this account")
    return merchant


def _relay_status(runtime: Runtime, merchant: MerchantRow) -> dict[str, str]:
    """url -> state of the server's relays and the merchant's own (no other merchant's)."""
    urls = list(dict.fromkeys([*runtime.relays, *merchant.relays]))
    status = runtime.pool.status() if runtime.pool is not None else {}
    return {url: str(status.get(url, "configured")) for url in urls}


async def _relay_changes(
    websocket: WebSocket, runtime: Runtime, merchant: MerchantRow, seen: dict[str, str]
) -> None:
    """Push `relay` {url, status} for each relay whose state changed since it was last told."""
    while True:
        await anyio.sleep(RELAY_WATCH_SECONDS)
        merchant = await get_merchant(runtime.db, merchant.id) or merchant  # relays it added
        for url, status in _relay_status(runtime, merchant).items():
            if seen.get(url) != status:
                seen[url] = status
                data = {"url": url, "status": status}
                await websocket.send_text(_text({"type": "relay", "data": data}))


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str, separators=(",", ":"))


async def _next_message(websocket: WebSocket) -> str:
    """The next text or binary frame as text; WebSocketDisconnect when the client left."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    return str(text)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client goes away."""
    try:
        while True:
            await _next_message(websocket)
    except (WebSocketDisconnect, RuntimeError):
        return


async def _forward(websocket: WebSocket, queue: asyncio.Queue[Notification]) -> None:
    while True:
        note = await queue.get()
        await websocket.send_text(_text({"type": note.kind, "data": note.data}))


@router.websocket("/ws")
async def api_ws(websocket: WebSocket) -> None:
    """Authenticate by the first message, then push the merchant's notifications."""
    await websocket.accept()
    runtime = runtime_of(websocket)
    try:
        merchant = await _authenticate(websocket, runtime)
    except WebSocketDisconnect:
        return
    if merchant is None:
        return
    async with runtime.bus.subscribe(merchant.id) as queue:
        unread = await unread_count(runtime.db, merchant.id)
        relays = _relay_status(runtime, merchant)
        hello = {"merchant_id": merchant.id, "relays": relays,
                 "unread_notifications": unread}  # fmt: skip
        await websocket.send_text(_text({"type": "hello", "data": hello}))
        # anyio, not bare asyncio tasks: the server's cancel scopes then reach every half.
        async with anyio.create_task_group() as group:

            async def first_of(half: Coroutine[Any, Any, None]) -> None:
                await half
                group.cancel_scope.cancel()

            group.start_soon(first_of, _until_closed(websocket))
            group.start_soon(first_of, _forward(websocket, queue))
            group.start_soon(first_of, _relay_changes(websocket, runtime, merchant, dict(relays)))
    logger.debug("dashboard socket of merchant {} closed", merchant.id)
