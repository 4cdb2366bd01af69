"""A real LNbits instance (1.x) over its REST API, with an invoice key.

- create: `POST /api/v1/payments {"out": false, "amount": sats, "memo", "expiry", "extra"}`
- status: `GET /api/v1/payments/{payment_hash}` (with the key, so `details` come back)
- settlements: the wallet's websocket `/api/v1/ws/{invoice_key}`, plus polling of the
  invoices this process knows to be pending: often while the websocket is down,
  rarely (as a safety net) while it is up. Every (re)connection starts with a sweep,
  so a payment made while the socket was down is still reported.

LNbits counts in whole satoshis. An amount that is not a whole number of sats is
rounded UP to the next sat: the merchant is never under-paid, and the customer
pays at most 999 msat more. `NewInvoice.amount_msat` is what the invoice asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets
from loguru import logger

from .base import (
    InvoiceRequest,
    InvoiceState,
    InvoiceStatus,
    NewInvoice,
    Settlement,
    WalletError,
)
from .minting import create_invoices_concurrently
from .stream import SettlementHub

MAX_MEMO = 640
TIMEOUT = 10.0  # seconds for a whole request and its answer (an ingest worker waits that long)


class LNbitsWallet:
    """Invoices on one LNbits wallet, identified by its invoice (read) key."""

    name = "lnbits"

    def __init__(
        self,
        url: str,
        invoice_key: str,
        *,
        poll_interval: float = 5.0,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self._key = invoice_key
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._hub = SettlementHub()
        self._pending: dict[str, int] = {}  # payment hash -> expires_at
        self._reported: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._socket_up = asyncio.Event()
        self._last_error: str | None = None

    async def start(self) -> None:
        """Check the URL and the key, then watch for settlements in the background."""
        self._http = httpx.AsyncClient(
            base_url=self.url, headers={"X-Api-Key": self._key}, timeout=self._timeout
        )
        try:
            await self._wallet_info()
        except WalletError as error:
            await self._http.aclose()
            self._http = None
            raise WalletError(
                f"lnbits backend: {error} (check NOSTRBAZAAR_LNBITS_URL and "
                "NOSTRBAZAAR_LNBITS_INVOICE_KEY)"
            ) from error
        self._hub.reopen()
        self._tasks = [
            asyncio.create_task(self._listen(), name="lnbits-websocket"),
            asyncio.create_task(self._poll(), name="lnbits-poll"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._hub.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def create_invoice(
        self,
        amount_msat: int,
        memo: str,
        expiry_seconds: int,
        extra: dict[str, Any] | None = None,
        description_hash: bytes | None = None,
    ) -> NewInvoice:
        """Ask LNbits for an invoice of `amount_msat` rounded up to whole sats (with
        `description_hash`, LNbits writes it as `h` and drops the memo)."""
        sats = sats_for(amount_msat)
        if expiry_seconds <= 0:
            raise WalletError(f"lnbits: expiry must be positive seconds, got {expiry_seconds}")
        body = {
            "out": False,
            "amount": sats,
            "unit": "sat",
            "memo": memo[:MAX_MEMO],
            "expiry": expiry_seconds,
            "extra": extra or {},
        }
        if description_hash is not None:
            body["description_hash"] = description_hash.hex()
        payment = await self._request("POST", "/api/v1/payments", json=body)
        new = NewInvoice(
            payment_hash=payment["payment_hash"],
            bolt11=payment["bolt11"],
            amount_msat=int(payment["amount"]),
            expires_at=_expiry_of(payment, int(self._clock()) + expiry_seconds),
        )
        self._pending[new.payment_hash] = new.expires_at
        return new

    async def create_invoices(
        self, requests: Sequence[InvoiceRequest]
    ) -> list[NewInvoice | WalletError]:
        """One `create_invoice` each, a few at a time (LNbits has no batch call)."""
        return await create_invoices_concurrently(self, requests)

    async def get_invoice_status(self, payment_hash: str) -> InvoiceStatus:
        """Ask LNbits now; a pending invoice found here is watched from then on."""
        try:
            answer = await self._request("GET", f"/api/v1/payments/{payment_hash}")
        except _NotFound:
            return InvoiceStatus(payment_hash, InvoiceState.UNKNOWN)
        status = status_from_lnbits(payment_hash, answer, self._clock())
        if status.state is InvoiceState.PENDING and "details" in answer:
            self._pending[payment_hash] = _expiry_of(answer["details"], 0)
        elif status.state is not InvoiceState.PENDING:
            self._pending.pop(payment_hash, None)
        return status

    def settlements(self) -> AsyncIterator[Settlement]:
        """Settled incoming payments (from the websocket or a poll), until `stop()`."""
        return self._hub.subscribe()

    async def cancel_invoice(self, payment_hash: str) -> bool:
        """LNbits cannot cancel an ordinary invoice; stop watching it and say so."""
        self._pending.pop(payment_hash, None)
        return False

    async def health(self) -> dict[str, Any]:
        """A live check of the URL and key, and whether settlements arrive by websocket."""
        try:
            info = await self._wallet_info()
        except WalletError as error:
            return {"backend": self.name, "ok": False, "detail": str(error)}
        channel = "websocket" if self._socket_up.is_set() else "polling (websocket down)"
        detail = f"{self.url} wallet {info.get('name', '?')!r}, settlements by {channel}"
        return {"backend": self.name, "ok": True, "detail": detail}

    # -- settlement watching -------------------------------------------------

    async def _listen(self) -> None:
        """Read the wallet's websocket, reconnecting with a growing pause."""
        pause = 0.5
        while True:
            try:
                async with websockets.connect(self._ws_url(), open_timeout=self._timeout) as ws:
                    self._socket_up.set()
                    pause = 0.5
                    await self._sweep()
                    async for message in ws:
                        self._on_message(message)
            except (OSError, websockets.WebSocketException, TimeoutError) as error:
                if self._socket_up.is_set() or self._last_error is None:
                    logger.warning("lnbits: websocket to {} lost: {}; polling", self.url, error)
                self._last_error = f"websocket: {error}"
            self._socket_up.clear()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)

    async def _poll(self) -> None:
        """Re-check pending invoices: every `poll_interval` while the socket is down."""
        while True:
            interval = self._poll_interval * (6 if self._socket_up.is_set() else 1)
            await asyncio.sleep(interval)
            await self._sweep()

    async def _sweep(self) -> None:
        """Look up every pending invoice once; report the settled, forget the expired."""
        for payment_hash in list(self._pending):
            try:
                answer = await self._request("GET", f"/api/v1/payments/{payment_hash}")
            except _NotFound:
                self._pending.pop(payment_hash, None)
                continue
            except WalletError as error:
                logger.warning("lnbits: cannot check pending invoices: {}", error)
                return
            status = status_from_lnbits(payment_hash, answer, self._clock())
            if status.state is InvoiceState.SETTLED:
                self._report(settlement_from_payment(answer.get("details") or {}, status))
            elif status.state is not InvoiceState.PENDING:
                self._pending.pop(payment_hash, None)

    def _on_message(self, message: str | bytes) -> None:
        """A websocket message: `{"wallet_balance", "payment": {...}}` per payment."""
        try:
            payment = json.loads(message).get("payment")
        except (ValueError, AttributeError):
            logger.warning("lnbits: unreadable websocket message {!r}", message[:200])
            return
        if not isinstance(payment, dict) or payment.get("status") != "success":
            return
        if int(payment.get("amount", 0)) <= 0:
            return  # an outgoing payment from the same wallet
        self._report(settlement_from_payment(payment, None))

    def _report(self, settlement: Settlement) -> None:
        """Publish a settlement once per process (callers still dedupe by hash)."""
        self._pending.pop(settlement.payment_hash, None)
        if settlement.payment_hash in self._reported:
            return
        self._reported.add(settlement.payment_hash)
        self._hub.publish(settlement)

    # -- HTTP ------------------------------------------------------------------

    async def _wallet_info(self) -> dict[str, Any]:
        return await self._request("GET", "/api/v1/wallet")

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; every failure becomes a WalletError naming LNbits and the URL."""
        if self._http is None:
            raise WalletError("lnbits wallet is not started")
        try:
            # httpx's timeout is per read: an answer trickling in byte by byte never ends.
            async with asyncio.timeout(self._timeout):
                response = await self._http.request(method, path, **kwargs)
        except (TimeoutError, httpx.TimeoutException) as error:
            self._last_error = (
                f"LNbits at {self.url} did not answer {method} {path} within {self._timeout:g} s"
            )
            raise WalletError(self._last_error) from error
        except httpx.HTTPError as error:
            self._last_error = f"cannot reach LNbits at {self.url}: {error!r}"
            raise WalletError(self._last_error) from error
        if response.status_code == 404 and path.startswith("/api/v1/payments/"):
            raise _NotFound(path)
        if response.status_code >= 400:
            self._last_error = f"LNbits at {self.url} refused {method} {path}: " + _detail(response)
            raise WalletError(self._last_error)
        try:
            answer = response.json()
        except ValueError as error:
            raise WalletError(f"LNbits at {self.url} answered {path} with non-JSON") from error
        if not isinstance(answer, dict):
            raise WalletError(f"LNbits at {self.url} answered {path} with {type(answer).__name__}")
        return answer

    def _ws_url(self) -> str:
        base = "ws" + self.url.removeprefix("http")
        return f"{base}/api/v1/ws/{self._key}"


class _NotFound(WalletError):
    """LNbits does not know this payment hash."""


def sats_for(amount_msat: int) -> int:
    """Whole sats for an msat amount, rounded up so the merchant is never under-paid."""
    if not isinstance(amount_msat, int) or amount_msat <= 0:
        raise WalletError(f"lnbits: amount must be a positive msat integer, got {amount_msat!r}")
    return -(-amount_msat // 1000)


def status_from_lnbits(payment_hash: str, answer: dict[str, Any], now: float) -> InvoiceStatus:
    """Map `GET /api/v1/payments/{hash}` to our states.

    LNbits says `paid`, or `status` pending/failed; a failed incoming invoice
    past its expiry is `expired`, one failed before it is `cancelled`.
    """
    details = answer.get("details") or {}
    amount = int(details["amount"]) if "amount" in details else None
    if answer.get("paid"):
        settled_at = _timestamp(details.get("updated_at")) if details else None
        return InvoiceStatus(payment_hash, InvoiceState.SETTLED, amount, settled_at)
    expired = bool(details) and now > _expiry_of(details, int(now) + 1)
    if expired:
        return InvoiceStatus(payment_hash, InvoiceState.EXPIRED, amount)
    if answer.get("status") == "failed":
        return InvoiceStatus(payment_hash, InvoiceState.CANCELLED, amount)
    return InvoiceStatus(payment_hash, InvoiceState.PENDING, amount)


def settlement_from_payment(payment: dict[str, Any], status: InvoiceStatus | None) -> Settlement:
    """A Settlement from an LNbits payment object (websocket or status `details`)."""
    payment_hash = str(payment.get("payment_hash") or (status.payment_hash if status else ""))
    amount = int(payment.get("amount") or (status.amount_msat if status else 0) or 0)
    settled_at = _timestamp(payment.get("updated_at")) or int(time.time())
    extra = payment.get("extra") if isinstance(payment.get("extra"), dict) else {}
    return Settlement(payment_hash, amount, settled_at, dict(extra or {}))


def _expiry_of(payment: dict[str, Any], default: int) -> int:
    return _timestamp(payment.get("expiry")) or default


def _timestamp(value: object) -> int | None:
    """Unix seconds from LNbits' ISO datetimes (naive ones are UTC) or numbers."""
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str) or not value:
        return None
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return f"{response.status_code} {detail or response.text[:200]}"
