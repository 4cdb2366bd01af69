"""Nostr Wallet Connect (NIP-47): a remote wallet service reached over relays.

Uses `make_invoice` and `lookup_invoice` requests (kind 23194, answered by kind
23195) and `payment_received` notifications (kind 23197 with NIP-44, 23196 with
NIP-04). The encryption follows the service's info event (kind 13194): NIP-44
when offered, NIP-04 otherwise. `start()` fails, naming the service and relays,
when no info event is found or it lacks `make_invoice`/`lookup_invoice`.

Notifications are optional in NIP-47 and relays do not store ephemeral events,
so pending invoices are also looked up: every `poll_interval` without
notifications, six times less often with them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from loguru import logger

from ..nostr.event import Event, sign_event
from ..nostr.relay_pool import PublishResult, RelayPool
from .base import (
    InvoiceRequest,
    InvoiceState,
    InvoiceStatus,
    NewInvoice,
    Settlement,
    WalletError,
)
from .minting import create_invoices_concurrently
from .nwc_protocol import (
    INFO_KIND,
    NOTIFICATION_KIND,
    NOTIFICATION_NIP04_KIND,
    REQUEST_KIND,
    RESPONSE_KIND,
    NWCConnection,
    Scheme,
    choose_scheme,
    parse_uri,
    seal,
    settlement_from_transaction,
    status_from_transaction,
    unseal,
)
from .stream import SettlementHub

NEEDED = ("make_invoice", "lookup_invoice")
_SUB_ID = "nwc-wallet"


class Pool(Protocol):
    """The part of `nostr.relay_pool.RelayPool` this backend uses."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def status(self) -> dict[str, str]: ...
    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]: ...
    def subscribe(self, sub_id: str, filters: list[dict[str, Any]], handler: Any) -> None: ...
    async def fetch(
        self, filters: list[dict[str, Any]], timeout: float = 10.0, relays: Any = None
    ) -> list[Event]: ...


PoolFactory = Callable[[Sequence[str]], Pool]


class NWCError(WalletError):
    """The wallet service answered with a NIP-47 error; `code` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"nwc wallet service error {code}: {message}")
        self.code = code


class NWCWallet:
    """A NIP-47 client for one connection URI."""

    name = "nwc"

    def __init__(
        self,
        uri: str,
        pool_factory: PoolFactory | None = None,
        *,
        request_timeout: float = 15.0,
        poll_interval: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection: NWCConnection = parse_uri(uri)
        self._pool_factory: PoolFactory = pool_factory or (lambda urls: RelayPool(urls))
        self._timeout = request_timeout
        self._poll_interval = poll_interval
        self._clock = clock
        self._pool: Pool | None = None
        self._scheme: Scheme = "nip04"
        self._notifications = False
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pending: dict[str, int | None] = {}
        self._reported: set[str] = set()
        self._hub = SettlementHub()
        self._poller: asyncio.Task[None] | None = None
        self._last_error: str | None = None

    @property
    def _service(self) -> str:
        return self.connection.wallet_pubkey

    async def start(self) -> None:
        """Connect, read the service's info event, and listen for answers and notifications."""
        self._pool = self._pool_factory(self.connection.relays)
        await self._pool.start()
        try:
            await self._read_info()
        except WalletError:
            await self._pool.close()
            self._pool = None
            raise
        self._pool.subscribe(_SUB_ID, self._filters(), self._on_event)
        self._hub.reopen()
        self._poller = asyncio.create_task(self._poll(), name="nwc-poll")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        for waiter in self._waiting.values():
            waiter.cancel()
        self._hub.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def create_invoice(
        self,
        amount_msat: int,
        memo: str,
        expiry_seconds: int,
        extra: dict[str, Any] | None = None,
        description_hash: bytes | None = None,
    ) -> NewInvoice:
        """`make_invoice` for exactly `amount_msat` (NIP-47 amounts are msat), with
        NIP-47's `description_hash` (hex) when given."""
        if not isinstance(amount_msat, int) or amount_msat <= 0:
            raise WalletError(f"nwc: amount must be a positive msat integer, got {amount_msat!r}")
        params: dict[str, Any] = {
            "amount": amount_msat,
            "description": memo,
            "expiry": expiry_seconds,
        }
        if extra:
            params["metadata"] = extra
        if description_hash is not None:
            params["description_hash"] = description_hash.hex()
        result = await self._call("make_invoice", params)
        try:
            new = NewInvoice(
                payment_hash=str(result["payment_hash"]),
                bolt11=str(result["invoice"]),
                amount_msat=int(result.get("amount") or amount_msat),
                expires_at=int(result.get("expires_at") or self._clock() + expiry_seconds),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise WalletError(f"nwc: make_invoice answer lacks {error}") from error
        self._pending[new.payment_hash] = new.expires_at
        return new

    async def create_invoices(
        self, requests: Sequence[InvoiceRequest]
    ) -> list[NewInvoice | WalletError]:
        """One `create_invoice` each, a few at a time (NIP-47 has no batch call)."""
        return await create_invoices_concurrently(self, requests)

    async def get_invoice_status(self, payment_hash: str) -> InvoiceStatus:
        """`lookup_invoice`; NOT_FOUND is `unknown`, a pending answer is watched from then on."""
        status, _ = await self._lookup(payment_hash)
        return status

    async def _lookup(self, payment_hash: str) -> tuple[InvoiceStatus, dict[str, Any]]:
        """The status and the raw transaction; keeps the pending set up to date."""
        try:
            result = await self._call("lookup_invoice", {"payment_hash": payment_hash})
        except NWCError as error:
            if error.code == "NOT_FOUND":
                return InvoiceStatus(payment_hash, InvoiceState.UNKNOWN), {}
            raise
        status = status_from_transaction(payment_hash, result, self._clock())
        if status.state is InvoiceState.PENDING:
            self._pending.setdefault(payment_hash, result.get("expires_at"))
        else:
            self._pending.pop(payment_hash, None)
        return status, result

    def settlements(self) -> AsyncIterator[Settlement]:
        """`payment_received` notifications and settled look-ups, until `stop()`."""
        return self._hub.subscribe()

    async def cancel_invoice(self, payment_hash: str) -> bool:
        """NIP-47 has no way to cancel an ordinary invoice; stop watching it."""
        self._pending.pop(payment_hash, None)
        return False

    async def health(self) -> dict[str, Any]:
        """Relay connections and the last request's outcome."""
        relays = self._pool.status() if self._pool is not None else {}
        connected = [url for url, state in relays.items() if state == "connected"]
        ok = bool(connected) and self._last_error is None
        detail = f"service {self._service[:12]}… via {len(connected)}/{len(relays)} relays"
        if self._last_error:
            detail += f"; last error: {self._last_error}"
        return {"backend": self.name, "ok": ok, "detail": detail}

    # -- requests --------------------------------------------------------------

    async def _read_info(self) -> None:
        """Find the service's kind 13194 event; choose encryption and check capabilities."""
        assert self._pool is not None
        where = f"wallet service {self._service} on {', '.join(self.connection.relays)}"
        filters = [{"kinds": [INFO_KIND], "authors": [self._service], "limit": 1}]
        try:
            events = await self._pool.fetch(filters, timeout=self._timeout)
        except (OSError, TimeoutError) as error:
            raise WalletError(f"nwc backend: cannot reach {where}: {error}") from error
        if not events:
            relays = ", ".join(f"{url}: {state}" for url, state in self._pool.status().items())
            raise WalletError(
                f"nwc backend: no info event (kind 13194) from {where} (relays: {relays})"
            )
        info = events[0]
        capabilities = set(info.content.split())
        missing = [name for name in NEEDED if name not in capabilities]
        if missing:
            raise WalletError(f"nwc backend: {where} does not offer {', '.join(missing)}")
        self._scheme = choose_scheme(info.tags)
        notes = " ".join(info.tag_values("notifications")).split()
        self._notifications = "notifications" in capabilities or "payment_received" in notes

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its response; NWCError on an error answer."""
        if self._pool is None:
            raise WalletError("nwc wallet is not started")
        request = self._request_event(method, params)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[request.id] = answer
        try:
            results = await self._pool.publish(request, timeout=self._timeout)
            if not any(result.ok for result in results.values()):
                reasons = "; ".join(f"{r.relay}: {r.message}" for r in results.values())
                self._last_error = f"no relay accepted the {method} request ({reasons})"
                raise WalletError(f"nwc: {self._last_error}")
            response = await asyncio.wait_for(answer, self._timeout)
        except TimeoutError:
            self._last_error = f"{method} got no answer within {self._timeout:g}s"
            raise WalletError(f"nwc: {self._last_error}") from None
        finally:
            self._waiting.pop(request.id, None)
        return self._result_of(method, response)

    def _request_event(self, method: str, params: dict[str, Any]) -> Event:
        key, now = self.connection.secret, int(self._clock())
        tags = [["p", self._service], ["expiration", str(now + int(self._timeout) + 5)]]
        if self._scheme == "nip44_v2":
            tags.append(["encryption", "nip44_v2"])
        content = seal(key, self._service, self._scheme, {"method": method, "params": params})
        return sign_event(key, REQUEST_KIND, content, tags, created_at=now)

    def _result_of(self, method: str, response: dict[str, Any]) -> dict[str, Any]:
        error = response.get("error")
        if isinstance(error, dict):
            self._last_error = None
            raise NWCError(str(error.get("code", "OTHER")), str(error.get("message", "")))
        result = response.get("result")
        if response.get("result_type") != method or not isinstance(result, dict):
            self._last_error = f"malformed {method} answer"
            raise WalletError(f"nwc: the wallet service sent a malformed {method} answer")
        self._last_error = None
        return result

    # -- incoming events -------------------------------------------------------

    def _filters(self) -> list[dict[str, Any]]:
        kinds = [RESPONSE_KIND]
        if self._notifications:
            kinds.append(
                NOTIFICATION_KIND if self._scheme == "nip44_v2" else NOTIFICATION_NIP04_KIND
            )
        since = int(self._clock()) - 60
        client = self.connection.secret.public_key
        return [{"kinds": kinds, "authors": [self._service], "#p": [client], "since": since}]

    async def _on_event(self, event: Event, relay: str) -> None:
        """A response resolves its request's future; a notification becomes a settlement."""
        try:
            payload = unseal(self.connection.secret, self._service, event.content)
        except WalletError as error:
            logger.warning("nwc: unreadable event {} from {}: {}", event.id, relay, error)
            return
        if event.kind == RESPONSE_KIND:
            waiter = self._waiting.get(event.first_tag("e") or "")
            if waiter is not None and not waiter.done():
                waiter.set_result(payload)
        elif payload.get("notification_type") == "payment_received":
            notification = payload.get("notification")
            if isinstance(notification, dict):
                self._report(settlement_from_transaction(notification, self._clock()))

    def _report(self, settlement: Settlement | None) -> None:
        """Publish a settlement once per process (callers still dedupe by hash)."""
        if settlement is None or settlement.payment_hash in self._reported:
            return
        self._pending.pop(settlement.payment_hash, None)
        self._reported.add(settlement.payment_hash)
        self._hub.publish(settlement)

    async def _poll(self) -> None:
        """Look up pending invoices now and then: report the settled, drop the expired."""
        while True:
            await asyncio.sleep(self._poll_interval * (6 if self._notifications else 1))
            for payment_hash in list(self._pending):
                try:
                    status, result = await self._lookup(payment_hash)
                except WalletError as error:
                    logger.warning(
                        "nwc: cannot look up pending invoice {}: {}", payment_hash, error
                    )
                    break
                if status.state is InvoiceState.SETTLED:
                    self._report(settlement_from_transaction(result, self._clock()))
