"""Choosing a backend from settings, and the messages when a setting is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from nostrbazaar.config import Settings
from nostrbazaar.wallets import WalletError, make_wallet
from nostrbazaar.wallets.fake import FakeWallet
from nostrbazaar.wallets.lnbits import LNbitsWallet
from nostrbazaar.wallets.nwc import NWCWallet

SERVICE = "b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4"
SECRET = "71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c"
URI = f"nostr+walletconnect://{SERVICE}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret={SECRET}"


def test_fake_is_the_default_and_uses_the_data_dir(tmp_path: Path) -> None:
    wallet = make_wallet(Settings(data_dir=tmp_path))
    assert isinstance(wallet, FakeWallet) and wallet.data_dir == tmp_path


def test_lnbits_needs_url_and_invoice_key() -> None:
    with pytest.raises(WalletError, match="NOSTRBAZAAR_LNBITS_URL"):
        make_wallet(Settings(wallet="lnbits"))
    with pytest.raises(WalletError, match="NOSTRBAZAAR_LNBITS_INVOICE_KEY"):
        make_wallet(Settings(wallet="lnbits", lnbits_url="http://127.0.0.1:1"))
    wallet = make_wallet(
        Settings(wallet="lnbits", lnbits_url="http://127.0.0.1:1", lnbits_invoice_key="k")
    )
    assert isinstance(wallet, LNbitsWallet)


def test_nwc_needs_a_uri() -> None:
    with pytest.raises(WalletError, match="NOSTRBAZAAR_NWC_URI"):
        make_wallet(Settings(wallet="nwc"))
    wallet = make_wallet(Settings(wallet="nwc", nwc_uri=URI), pool_factory=lambda urls: None)  # type: ignore[arg-type,return-value]
    assert isinstance(wallet, NWCWallet)
    assert wallet.connection.relays == ("ws://127.0.0.1:1",)


def test_an_unknown_backend_names_the_variable() -> None:
    with pytest.raises(WalletError, match="NOSTRBAZAAR_WALLET"):
        make_wallet(Settings(wallet="cash"))


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("nostr+walletconnect://nothex?relay=ws://x&secret=" + SECRET, "public key"),
        (f"nostr+walletconnect://{SERVICE}?secret={SECRET}", "relay"),
        (f"nostr+walletconnect://{SERVICE}?relay=http%3A%2F%2Fx&secret={SECRET}", "relay"),
        (f"nostr+walletconnect://{SERVICE}?relay=ws%3A%2F%2Fx", "secret"),
        (f"https://{SERVICE}?relay=ws%3A%2F%2Fx&secret={SECRET}", "nostr\\+walletconnect"),
    ],
)
def test_a_bad_nwc_uri_is_refused_naming_the_variable(uri: str, problem: str) -> None:
    with pytest.raises(WalletError, match=f"NOSTRBAZAAR_NWC_URI.*{problem}"):
        make_wallet(Settings(wallet="nwc", nwc_uri=uri))
