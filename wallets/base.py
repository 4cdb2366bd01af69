"""The one small interface every Lightning backend implements.

Amounts are integer millisatoshis. A backend never decides business rules: it
mints invoices, reports their state, and streams settlements keyed by payment
hash (the same settlement may be reported more than once; callers dedupe).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class WalletError(Exception):
    """The backend refused a request or could not be reached; `str()` says why."""


class InvoiceState(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class NewInvoice:
    payment_hash: str
    bolt11: str
    amount_msat: int
    expires_at: int


@dataclass(frozen=True)
class InvoiceRequest:
    """One invoice to mint in a batch: the arguments of `Wallet.create_invoice` as a value
    (`wallets.minting` re-exports it; it lives here so the interface can name it)."""

    amount_msat: int
    memo: str
    expiry_seconds: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    description_hash: bytes | None = None


@dataclass(frozen=True)
class InvoiceStatus:
    payment_hash: str
    state: InvoiceState
    amount_msat: int | None = None
    settled_at: int | None = None


@dataclass(frozen=True)
class Settlement:
    """A payment the backend saw arrive; `amount_msat` is what was received."""

    payment_hash: str
    amount_msat: int
    settled_at: int
    extra: dict[str, Any] = field(default_factory=dict)


class Wallet(Protocol):
    """A Lightning backend. `name` appears in health output and errors."""

    name: str

    async def start(self) -> None:
        """Connect and check credentials; raise WalletError naming the problem."""

    async def stop(self) -> None: ...

    async def create_invoice(
        self,
        amount_msat: int,
        memo: str,
        expiry_seconds: int,
        extra: dict[str, Any] | None = None,
        description_hash: bytes | None = None,
    ) -> NewInvoice:
        """Mint an invoice. With `description_hash` (32 bytes) the invoice commits to it
        (BOLT11 `h`, no `d`), and `memo` should be the text it hashes (LUD-06: sha256 of
        the LNURL metadata), for backends that hash the description themselves."""
        ...

    async def create_invoices(
        self, requests: Sequence[InvoiceRequest]
    ) -> list[NewInvoice | WalletError]:
        """Mint a batch: one outcome per request, in the same order. A request that fails
        yields its WalletError and never fails its neighbours; nothing is raised for one.
        Backends without a batch call use `minting.create_invoices_concurrently`."""
        ...

    async def get_invoice_status(self, payment_hash: str) -> InvoiceStatus: ...

    def settlements(self) -> AsyncIterator[Settlement]:
        """Settled payments as they happen; runs until `stop()`."""
        ...

    async def cancel_invoice(self, payment_hash: str) -> bool:
        """Cancel where supported; False when the backend cannot."""
        ...

    async def health(self) -> dict[str, Any]:
        """`{"backend": name, "ok": bool, "detail": str}` for /api/v1/health."""
        ...
