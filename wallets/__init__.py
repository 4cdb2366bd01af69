"""Lightning backends behind one small interface (`base.Wallet`): fake, lnbits, nwc."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import (
    InvoiceRequest,
    InvoiceState,
    InvoiceStatus,
    NewInvoice,
    Settlement,
    Wallet,
    WalletError,
)

if TYPE_CHECKING:
    from ..config import Settings
    from .nwc import PoolFactory

__all__ = [
    "InvoiceRequest",
    "InvoiceState",
    "InvoiceStatus",
    "NewInvoice",
    "Settlement",
    "Wallet",
    "WalletError",
    "make_wallet",
]


def make_wallet(
    settings: Settings,
    data_dir: Path | None = None,
    pool_factory: PoolFactory | None = None,
    db: Any = None,
) -> Wallet:
    """The backend `settings.wallet` names, built but not started (call `start()`).

    Missing settings raise WalletError naming the NOSTRBAZAAR_ variable to set. With a
    database URL the fake wallet keeps its invoices in that database (`db`), so every
    instance on it can settle them.
    """
    if settings.wallet == "fake":
        from .fake import FakeWallet
        from .fake_db_store import DbFakeStore

        store = DbFakeStore(db) if settings.database_url and db is not None else None
        return FakeWallet(data_dir or settings.data_dir, store=store)
    if settings.wallet == "lnbits":
        from .lnbits import LNbitsWallet

        if not settings.lnbits_url:
            raise WalletError(
                "lnbits backend: set NOSTRBAZAAR_LNBITS_URL (e.g. https://lnbits.example)"
            )
        if not settings.lnbits_invoice_key:
            raise WalletError(
                "lnbits backend: set NOSTRBAZAAR_LNBITS_INVOICE_KEY (the wallet's invoice/read key)"
            )
        return LNbitsWallet(settings.lnbits_url, settings.lnbits_invoice_key)
    if settings.wallet == "nwc":
        from .nwc import NWCWallet

        if not settings.nwc_uri:
            raise WalletError("nwc backend: set NOSTRBAZAAR_NWC_URI (nostr+walletconnect://...)")
        return NWCWallet(settings.nwc_uri, pool_factory)
    raise WalletError(
        f"unknown wallet backend {settings.wallet!r}: set NOSTRBAZAAR_WALLET to fake, lnbits or nwc"
    )
