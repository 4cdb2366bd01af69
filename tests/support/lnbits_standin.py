"""An LNbits stand-in on 127.0.0.1 (uvicorn, real HTTP) whose invoice endpoint can hang.

It answers what `wallets/lnbits.py` asks: `GET /api/v1/wallet`, `POST /api/v1/payments`
(a real, signed regtest BOLT11, amount in msat as LNbits answers) and
`GET /api/v1/payments/{hash}` (pending). While `hanging`, `POST /api/v1/payments`
either never answers (`"silent"`) or sends its answer a few bytes at a time, each well
within the client's per-read timeout but never finishing (`"trickle"`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.nostr.secp import EcdsaKey
from nostrbazaar.wallets.invoice_codec import InvoiceFields, encode_invoice


class LNbitsStandIn:
    """Start with `await start()`, stop with `await stop()`; `hanging` may change any time."""

    def __init__(self, hanging: str | None = None) -> None:
        self.hanging = hanging  # None (answers), "silent" or "trickle"
        self.asked = 0  # invoice requests received
        self.minted: list[str] = []  # payment hashes of the invoices answered
        self.port = free_port()
        self._node = EcdsaKey()
        self._released = asyncio.Event()  # ends the requests left hanging (at stop)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning",
            timeout_graceful_shutdown=2,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve())
        for _ in range(250):  # bounded: five seconds at most
            if self._server.started:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the LNbits stand-in did not start")

    async def stop(self) -> None:
        self._released.set()
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._serving, 10)
            self._server = self._serving = None

    def _app(self) -> FastAPI:
        app = FastAPI()
        app.get("/api/v1/wallet")(lambda: {"name": "stand-in", "balance": 0})
        app.post("/api/v1/payments")(self._create)
        app.get("/api/v1/payments/{payment_hash}")(self._status)
        return app

    async def _create(self, request: Request) -> Response:
        self.asked += 1
        body = await request.json()
        if self.hanging == "silent":
            await self._released.wait()
            return Response(status_code=503)
        if self.hanging == "trickle":
            return StreamingResponse(self._trickle(), media_type="application/json")
        return JSONResponse(self._invoice(int(body["amount"]) * 1000, str(body["memo"])))

    async def _trickle(self) -> AsyncIterator[bytes]:
        for _ in range(10_000):  # a byte every 0.1 s, never a whole answer
            if self._released.is_set():
                return
            yield b" "
            await asyncio.sleep(0.1)

    def _invoice(self, amount_msat: int, memo: str) -> dict[str, Any]:
        preimage = os.urandom(32)
        fields = InvoiceFields(
            amount_msat=amount_msat,
            payment_hash=hashlib.sha256(preimage).digest(),
            payment_secret=os.urandom(32),
            description=memo,
            timestamp=int(time.time()),
            expiry=3600,
        )
        payment_hash = fields.payment_hash.hex()
        self.minted.append(payment_hash)
        bolt11 = encode_invoice(fields, self._node)
        return {"payment_hash": payment_hash, "bolt11": bolt11, "amount": amount_msat}

    async def _status(self, payment_hash: str) -> dict[str, Any]:
        return {"paid": False, "status": "pending", "details": {"payment_hash": payment_hash}}
