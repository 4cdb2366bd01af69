"""A NIP-47 wallet service for the tests, written from shared/specs/nips/47.md.

It mints real invoices with a FakeWallet, answers `make_invoice`,
`lookup_invoice` and `get_info` (anything else: NOT_IMPLEMENTED), and sends
`payment_received` notifications when a test calls `pay()`: kind 23197
(NIP-44) and, when NIP-04 is offered too, kind 23196 (NIP-04), as the spec asks.
Requests are answered in the scheme their `encryption` tag names (none: NIP-04).
It is itself checked against nostr-sdk's NWC client in
tests/integration/test_wallet_nwc.py, so that both sides meet the spec.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nostrbazaar.nostr import nip04, nip44
from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import RelayPool
from nostrbazaar.wallets.base import Settlement, WalletError
from nostrbazaar.wallets.fake import FakeWallet
from nostrbazaar.wallets.fake_store import FakeInvoice

INFO, REQUEST, RESPONSE, NOTE_NIP04, NOTE_NIP44 = 13194, 23194, 23195, 23196, 23197
METHODS = ("make_invoice", "lookup_invoice", "get_info")


class NWCService:
    """One wallet service with one client connection, on the given relays."""

    def __init__(
        self,
        relays: list[str],
        data_dir: Path,
        *,
        encryptions: tuple[str, ...] = ("nip44_v2", "nip04"),
        notifications: bool = True,
        publish_info: bool = True,
    ) -> None:
        self.relays = relays
        self.key = PrivateKey.generate()
        self.client_secret = PrivateKey.generate()
        self.encryptions = encryptions
        self.notifications = notifications
        self.publish_info = publish_info
        self.wallet = FakeWallet(data_dir)
        self.pool = RelayPool(relays)
        self.sent: list[Event] = []  # every response and notification, for inspection
        self.requests: list[Event] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def uri(self) -> str:
        """The connection URI a client is given (NIP-47 "Nostr Wallet Connect URI")."""
        relays = "&".join(f"relay={quote(url, safe='')}" for url in self.relays)
        return (
            f"nostr+walletconnect://{self.key.public_key}?{relays}&secret={self.client_secret.hex}"
        )

    async def start(self) -> None:
        await self.wallet.start()
        await self.pool.start()
        if self.publish_info:
            await self._publish(self._info_event())
        requests = {"kinds": [REQUEST], "#p": [self.key.public_key], "since": int(time.time()) - 60}
        self.pool.subscribe("nwc-service", [requests], self._on_request)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pool.close()
        await self.wallet.stop()

    async def pay(self, bolt11: str) -> Settlement:
        """Settle an invoice this service issued and notify the client."""
        settlement = await self.wallet.pay(bolt11)
        invoice = self.wallet.invoice(settlement.payment_hash)
        if self.notifications and invoice is not None:
            to_client = ["p", self.client_secret.public_key]
            payload = {"notification_type": "payment_received", "notification": _tx(invoice)}
            if "nip44_v2" in self.encryptions:
                await self._publish(self._sealed(NOTE_NIP44, "nip44_v2", payload, [to_client]))
            if "nip04" in self.encryptions:
                await self._publish(self._sealed(NOTE_NIP04, "nip04", payload, [to_client]))
        return settlement

    def _info_event(self) -> Event:
        capabilities = " ".join((*METHODS, *(["notifications"] if self.notifications else [])))
        tags = [["encryption", " ".join(self.encryptions)]]
        if self.notifications:
            tags.append(["notifications", "payment_received"])
        return sign_event(self.key, INFO, capabilities, tags)

    async def _on_request(self, event: Event, _relay: str) -> None:
        """Answer in a task: the pool's handlers must not await its own publish."""
        self.requests.append(event)
        task = asyncio.create_task(self._answer(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request: Event) -> None:
        expiration = request.first_tag("expiration")
        if expiration and expiration.isdigit() and int(expiration) < time.time():
            return  # "If the request is received after this timestamp, it should be ignored."
        scheme = request.first_tag("encryption") or "nip04"
        if scheme not in self.encryptions:
            body = _error("?", "UNSUPPORTED_ENCRYPTION", f"{scheme} is not supported")
            await self._respond(
                request, "nip04" if "nip04" in self.encryptions else "nip44_v2", body
            )
            return
        if request.pubkey != self.client_secret.public_key:
            await self._respond(request, scheme, _error("?", "UNAUTHORIZED", "no wallet connected"))
            return
        message = self._open(request.content, scheme)
        method = str(message.get("method"))
        await self._respond(request, scheme, await self._run(method, message.get("params") or {}))

    async def _run(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            if method == "make_invoice":
                return _ok(method, await self._make_invoice(params))
            if method == "lookup_invoice":
                return self._lookup_invoice(params)
            if method == "get_info":
                return _ok(method, {"alias": "test service", "methods": list(METHODS)})
        except (WalletError, KeyError, TypeError, ValueError) as error:
            return _error(method, "INTERNAL", str(error))
        return _error(method, "NOT_IMPLEMENTED", f"{method} is not implemented")

    async def _make_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        metadata = params.get("metadata")
        description_hash = params.get("description_hash")
        new = await self.wallet.create_invoice(
            int(params["amount"]),
            str(params.get("description") or ""),
            int(params.get("expiry") or 3600),
            metadata if isinstance(metadata, dict) else None,
            bytes.fromhex(description_hash) if description_hash else None,
        )
        invoice = self.wallet.invoice(new.payment_hash)
        assert invoice is not None
        return _tx(invoice)

    def _lookup_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        invoice: FakeInvoice | None = None
        if params.get("payment_hash"):
            invoice = self.wallet.invoice(str(params["payment_hash"]))
        elif params.get("invoice"):
            invoice = self.wallet.invoice_for(str(params["invoice"]))
        if invoice is None:
            return _error("lookup_invoice", "NOT_FOUND", "no such invoice")
        return _ok("lookup_invoice", _tx(invoice))

    async def _respond(self, request: Event, scheme: str, body: dict[str, Any]) -> None:
        tags = [["p", request.pubkey], ["e", request.id]]
        await self._publish(self._sealed(RESPONSE, scheme, body, tags))

    def _sealed(self, kind: int, scheme: str, body: dict[str, Any], tags: list[list[str]]) -> Event:
        """Encrypt `body` to the `p` of `tags` and sign it as the service."""
        peer = next(tag[1] for tag in tags if tag[0] == "p")
        text = json.dumps(body)
        if scheme == "nip44_v2":
            content = nip44.encrypt(text, nip44.conversation_key(self.key, peer))
        else:
            content = nip04.encrypt(self.key, peer, text)
        return sign_event(self.key, kind, content, tags)

    def _open(self, content: str, scheme: str) -> dict[str, Any]:
        peer = self.client_secret.public_key
        if scheme == "nip44_v2":
            return dict(json.loads(nip44.decrypt(content, nip44.conversation_key(self.key, peer))))
        return dict(json.loads(nip04.decrypt(self.key, peer, content)))

    async def _publish(self, event: Event) -> None:
        results = await self.pool.publish(event, timeout=10)
        if not any(result.ok for result in results.values()):
            raise RuntimeError(f"relay refused NWC service event: {results}")
        self.sent.append(event)


def _tx(invoice: FakeInvoice) -> dict[str, Any]:
    """A NIP-47 transaction object for one of our invoices, with its state now."""
    now = time.time()
    state = invoice.state
    if state == "pending" and now > invoice.expires_at:
        state = "expired"
    elif state == "cancelled":
        state = "failed"
    tx: dict[str, Any] = {
        "type": "incoming",
        "state": state,
        "invoice": invoice.bolt11,
        "description": invoice.memo,
        "payment_hash": invoice.payment_hash,
        "amount": invoice.amount_msat,
        "fees_paid": 0,
        "created_at": invoice.created_at,
        "expires_at": invoice.expires_at,
        "metadata": invoice.extra,
    }
    if state == "settled":
        tx["settled_at"] = invoice.settled_at
        tx["preimage"] = invoice.preimage
    return tx


def _ok(method: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"result_type": method, "error": None, "result": result}


def _error(method: str, code: str, message: str) -> dict[str, Any]:
    return {"result_type": method, "error": {"code": code, "message": message}, "result": None}
