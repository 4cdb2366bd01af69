"""A small scriptable Nostr relay on 127.0.0.1 for tests (`websockets` server).

It stores what it is sent, answers REQ with the stored events and EOSE, and can
be told to misbehave: never answer OK, require NIP-42 AUTH, or run a test's own
script instead of the normal REQ answer. Not a real relay: use `EmbeddedRelay`
for that; this one exists to do what a real relay would not.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from nostrbazaar.nostr.event import InvalidEvent, parse_event
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Frame = str | bytes | list[Any]


@dataclass
class Session:
    """One client connection as the fake relay sees it."""

    ws: ServerConnection
    number: int
    challenge: str = field(default_factory=lambda: secrets.token_hex(8))
    authed: bool = False
    subs: set[str] = field(default_factory=set)

    async def send(self, frame: Frame) -> None:
        """Send a message (a list is JSON-encoded; str and bytes go out as they are)."""
        await self.ws.send(json.dumps(frame) if isinstance(frame, list) else frame)


ReqScript = Callable[[Session, str, list[dict[str, Any]]], Awaitable[None]]


class FakeRelay:
    """Start with `await start()`, stop with `await stop()`; `url` is ws://127.0.0.1:<port>."""

    def __init__(
        self,
        *,
        answer_ok: bool = True,
        require_auth: bool = False,
        on_req: ReqScript | None = None,
    ) -> None:
        self.answer_ok = answer_ok
        self.require_auth = require_auth
        self.on_req = on_req
        self.stored: list[dict[str, Any]] = []
        self.received: list[list[Any]] = []
        self.sessions: list[Session] = []
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self._server = await serve(self._serve, "127.0.0.1", self.port, max_size=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def messages(self, kind: str) -> list[list[Any]]:
        """Every message of type `kind` ("EVENT", "REQ", "AUTH", ...) received so far."""
        return [message for message in self.received if message and message[0] == kind]

    async def broadcast(self, frame: Frame) -> None:
        """Send `frame` to every open connection that has a live subscription."""
        for session in self.sessions:
            if session.subs:
                with suppress(ConnectionClosed):
                    await session.send(frame)

    async def _serve(self, ws: ServerConnection) -> None:
        session = Session(ws, number=len(self.sessions) + 1)
        self.sessions.append(session)
        if self.require_auth:
            await session.send(["AUTH", session.challenge])
        try:
            async for frame in ws:
                message = json.loads(frame)
                self.received.append(message)
                await self._answer(session, message)
        except ConnectionClosed:
            pass

    async def _answer(self, session: Session, message: list[Any]) -> None:
        kind = message[0]
        if kind == "EVENT":
            await self._on_event(session, message[1])
        elif kind == "REQ":
            await self._on_req(session, message[1], message[2:])
        elif kind == "CLOSE":
            session.subs.discard(message[1])
        elif kind == "AUTH":
            await self._on_auth(session, message[1])

    async def _on_event(self, session: Session, raw: dict[str, Any]) -> None:
        if self.require_auth and not session.authed:
            await session.send(["OK", raw["id"], False, "auth-required: sign in first"])
        elif self.answer_ok:
            self.stored.append(raw)
            await session.send(["OK", raw["id"], True, ""])
            for other in self.sessions:  # live delivery, without filter matching
                for sub_id in list(other.subs):
                    with suppress(ConnectionClosed):
                        await other.send(["EVENT", sub_id, raw])

    async def _on_req(self, session: Session, sub_id: str, filters: list[dict[str, Any]]) -> None:
        if self.require_auth and not session.authed:
            await session.send(["CLOSED", sub_id, "auth-required: sign in to read"])
            return
        session.subs.add(sub_id)
        if self.on_req is not None:
            await self.on_req(session, sub_id, filters)
            return
        for raw in self.stored:
            await session.send(["EVENT", sub_id, raw])
        await session.send(["EOSE", sub_id])

    async def _on_auth(self, session: Session, raw: dict[str, Any]) -> None:
        reason = auth_problem(raw, session.challenge)
        session.authed = reason is None
        await session.send(["OK", raw.get("id", ""), reason is None, reason or ""])


def auth_problem(raw: object, challenge: str) -> str | None:
    """Why `raw` is not a valid NIP-42 answer to `challenge`, or None when it is."""
    try:
        event = parse_event(raw)
    except InvalidEvent as error:
        return f"invalid: {error.reason}"
    if event.kind != 22242:
        return "invalid: not kind 22242"
    if event.first_tag("challenge") != challenge:
        return "invalid: wrong challenge"
    if not (event.first_tag("relay") or "").startswith("ws://127.0.0.1:"):
        return "invalid: wrong relay tag"
    return None
