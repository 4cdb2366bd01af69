"""How LNbits and NIP-47 answers map onto our states, and LNbits' whole-sat rounding."""

from __future__ import annotations

import pytest
from nostrbazaar.wallets.base import InvoiceState, WalletError
from nostrbazaar.wallets.lnbits import sats_for, settlement_from_payment, status_from_lnbits
from nostrbazaar.wallets.nwc_protocol import (
    choose_scheme,
    settlement_from_transaction,
    status_from_transaction,
)

HASH = "ab" * 32
NOW = 1_800_000_000


@pytest.mark.parametrize(("msat", "sats"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (21_500, 22)])
def test_lnbits_rounds_up_to_whole_sats(msat: int, sats: int) -> None:
    assert sats_for(msat) == sats


@pytest.mark.parametrize("msat", [0, -1000])
def test_lnbits_refuses_non_positive_amounts(msat: int) -> None:
    with pytest.raises(WalletError):
        sats_for(msat)


def _details(**extra: object) -> dict[str, object]:
    return {"amount": 5000, "expiry": "2027-01-15T08:00:00", "updated_at": NOW, **extra}


def test_lnbits_paid_is_settled_with_time_and_amount() -> None:
    status = status_from_lnbits(HASH, {"paid": True, "details": _details()}, NOW)
    assert (status.state, status.amount_msat, status.settled_at) == (
        InvoiceState.SETTLED,
        5000,
        NOW,
    )


def test_lnbits_unpaid_past_expiry_is_expired_and_failed_before_it_is_cancelled() -> None:
    late = 1_900_000_000  # after 2027-01-15
    answer = {"paid": False, "status": "failed", "details": _details()}
    assert status_from_lnbits(HASH, answer, late).state is InvoiceState.EXPIRED
    assert status_from_lnbits(HASH, answer, NOW).state is InvoiceState.CANCELLED
    pending = {"paid": False, "status": "pending", "details": _details()}
    assert status_from_lnbits(HASH, pending, NOW).state is InvoiceState.PENDING


def test_lnbits_payment_becomes_a_settlement_with_its_extra() -> None:
    payment = {"payment_hash": HASH, "amount": 7000, "updated_at": "2027-01-01T00:00:00+00:00"}
    settlement = settlement_from_payment({**payment, "extra": {"order": "1"}}, None)
    assert (settlement.payment_hash, settlement.amount_msat, settlement.extra) == (
        HASH,
        7000,
        {"order": "1"},
    )
    assert settlement.settled_at == 1_798_761_600


def test_nip47_encryption_prefers_nip44_and_defaults_to_nip04() -> None:
    assert choose_scheme([["encryption", "nip44_v2 nip04"]]) == "nip44_v2"
    assert choose_scheme([["encryption", "nip04"]]) == "nip04"
    assert choose_scheme([["notifications", "payment_received"]]) == "nip04"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("settled", InvoiceState.SETTLED),
        ("expired", InvoiceState.EXPIRED),
        ("failed", InvoiceState.CANCELLED),
        ("accepted", InvoiceState.PENDING),
        ("pending", InvoiceState.PENDING),
    ],
)
def test_nip47_states_map_onto_ours(state: str, expected: InvoiceState) -> None:
    tx = {"state": state, "amount": 1000, "expires_at": NOW + 60, "settled_at": NOW}
    assert status_from_transaction(HASH, tx, NOW).state is expected


def test_nip47_pending_past_expiry_is_expired_and_no_state_uses_settled_at() -> None:
    assert status_from_transaction(
        HASH, {"state": "pending", "expires_at": NOW - 1}, NOW
    ).state is (InvoiceState.EXPIRED)
    assert status_from_transaction(HASH, {"settled_at": NOW}, NOW).state is InvoiceState.SETTLED


def test_nip47_notification_needs_hash_and_amount() -> None:
    assert settlement_from_transaction({"amount": 1}, NOW) is None
    full = {"payment_hash": HASH, "amount": 1, "settled_at": NOW, "metadata": {"o": "1"}}
    assert settlement_from_transaction(full, NOW + 5) is not None
