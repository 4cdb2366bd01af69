"""The ecash a merchant holds: its balance per mint, the mints it trusts, and withdrawals.

Redeemed proofs are kept sealed with the key store, like the merchants' keys.
A withdrawal takes a mint's unspent proofs (marked `withdrawing` in one
transaction, so two withdrawals never spend the same proof) and either melts
them to a Lightning invoice the merchant gives (NUT-05; the fee reserve not
used comes back as change, NUT-08) or hands them over as one token to put in
any Cashu wallet. A mint's refusal puts the proofs back; a melt whose answer is
lost leaves them `withdrawing` (the withdrawal stays `pending`) until checked.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass

from loguru import logger

from ..crud import cashu as cashu_crud
from ..crud.uow import unit_of_work
from ..services.catalogue_errors import Conflict, InvalidRequest, NotFound, Unavailable
from ..wallets.cashu_client import MintClient, MintRefused, MintUnavailable, Output, input_fee
from ..wallets.cashu_nut00 import new_blinding, y_of
from ..wallets.cashu_token import Proof, Token, encode_v4
from .cashu_payments import trusted_mints
from .deps import Deps


@dataclass(frozen=True)
class Withdrawn:
    id: str
    mint: str
    kind: str
    amount: int
    fee: int
    token: str | None = None
    preimage: str | None = None


async def summary(deps: Deps, merchant_id: str) -> dict[str, object]:
    """Balance per mint, the trusted mints (configured and the merchant's own), withdrawals."""
    balances = await cashu_crud.balances(deps.db, merchant_id)
    return {
        "balances": [{"mint": mint, "sats": sats} for mint, sats in balances.items()],
        "total_sats": sum(balances.values()),
        "configured_mints": list(deps.settings.cashu_mints),
        "merchant_mints": await cashu_crud.merchant_mints(deps.db, merchant_id),
        "trusted_mints": await trusted_mints(deps, merchant_id),
        "withdrawals": await cashu_crud.withdrawals(deps.db, merchant_id),
    }


async def set_mints(deps: Deps, merchant_id: str, mints: list[str]) -> list[str]:
    """The merchant's own trusted mints (added to NOSTRBAZAAR_CASHU_MINTS)."""
    cleaned = list(dict.fromkeys(m.strip().rstrip("/") for m in mints if m.strip()))
    bad = [m for m in cleaned if not m.startswith(("https://", "http://"))]
    if bad:
        raise InvalidRequest(f"not an http(s) mint URL: {bad[0][:100]}")
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.set_merchant_mints(conn, merchant_id, cleaned, deps.now())
    return cleaned


async def _take(deps: Deps, merchant_id: str, mint: str, kind: str) -> tuple[str, list[Proof]]:
    """Every unspent proof of `mint`, marked as being withdrawn by a new withdrawal."""
    held = await cashu_crud.unspent_proofs(deps.db, merchant_id, mint.rstrip("/"))
    if not held:
        raise NotFound(f"no ecash of mint {mint} is held")
    keystore = deps.merchants.keystore
    proofs = [Proof(**json.loads(keystore.open(p.sealed))) for p in held]
    withdrawal_id = uuid.uuid4().hex
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.insert_withdrawal(conn, withdrawal_id, merchant_id, held[0].mint, kind,
                                           sum(p.amount for p in proofs), deps.now())  # fmt: skip
        if not await cashu_crud.take_proofs(conn, [p.y for p in held], withdrawal_id):
            raise Conflict("another withdrawal is taking these proofs; try again")
    return withdrawal_id, proofs


async def _end(deps: Deps, withdrawal_id: str, state: str, detail: str, fee: int = 0) -> None:
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.end_withdrawal(conn, withdrawal_id, state, detail, fee, deps.now())


async def export_token(deps: Deps, merchant_id: str, mint: str) -> Withdrawn:
    """All of a mint's proofs as one token (cashuB) for the merchant's own Cashu wallet."""
    withdrawal_id, proofs = await _take(deps, merchant_id, mint, "token")
    token = encode_v4(Token(mint.rstrip("/"), tuple(proofs), memo="nostrbazaar withdrawal"))
    await _end(deps, withdrawal_id, "done", "exported as a token")
    return Withdrawn(withdrawal_id, mint, "token", sum(p.amount for p in proofs), 0, token=token)


async def melt(deps: Deps, merchant_id: str, mint: str, bolt11: str) -> Withdrawn:
    """Pay `bolt11` with a mint's proofs; the change comes back as new proofs."""
    if not await cashu_crud.unspent_proofs(deps.db, merchant_id, mint.rstrip("/")):
        raise NotFound(f"no ecash of mint {mint} is held")
    client = MintClient(mint)
    try:
        quote = await client.melt_quote(bolt11)
        keysets = await client.keysets()
    except MintRefused as refused:
        raise InvalidRequest(f"the mint will not pay this invoice: {refused.detail}") from None
    except MintUnavailable as error:
        raise Unavailable(str(error)) from None
    withdrawal_id, proofs = await _take(deps, merchant_id, mint, "melt")
    need = int(quote["amount"]) + int(quote.get("fee_reserve", 0)) + input_fee(proofs, keysets)
    if sum(p.amount for p in proofs) < need:
        await _end(deps, withdrawal_id, "failed", f"{need} sat needed")
        held = sum(p.amount for p in proofs)
        raise InvalidRequest(f"the invoice needs {need} sat with fees; {held} sat are held here")
    change = _blanks(int(quote.get("fee_reserve", 0)), proofs[0].id)
    return await _pay(deps, client, merchant_id, withdrawal_id, quote, proofs, change)


def _blanks(fee_reserve: int, keyset_id: str) -> list[Output]:
    """NUT-08: enough blank outputs for any change up to the fee reserve."""
    count = max(1, math.ceil(math.log2(fee_reserve))) if fee_reserve > 1 else 1
    return [Output(1, keyset_id, *new_blinding()) for _ in range(count)]


async def _pay(
    deps: Deps, client: MintClient, merchant_id: str, withdrawal_id: str, quote: dict[str, object],
    proofs: list[Proof], change: list[Output],
) -> Withdrawn:  # fmt: skip
    try:
        answer = await client.melt(str(quote["quote"]), proofs, change)
    except MintRefused as refused:
        await _end(deps, withdrawal_id, "failed", refused.detail)
        raise InvalidRequest(f"the mint did not pay the invoice: {refused.detail}") from None
    except MintUnavailable as error:
        logger.warning("melt {} left pending: {}", withdrawal_id, error)
        pending = f"the mint did not answer; withdrawal {withdrawal_id} is pending"
        raise Unavailable(pending) from None
    if str(answer.get("state", "")).upper() != "PAID" and answer.get("paid") is not True:
        await _end(deps, withdrawal_id, "failed", f"the mint says {answer.get('state')}")
        raise InvalidRequest(f"the mint did not pay the invoice ({answer.get('state')})")
    returned = await _change(deps, client, merchant_id, change, answer.get("change") or [])
    spent = sum(p.amount for p in proofs)
    fee = spent - int(str(quote["amount"])) - returned
    await _end(deps, withdrawal_id, "done", "melted", fee)
    return Withdrawn(withdrawal_id, client.url, "melt", int(str(quote["amount"])), fee,
                     preimage=str(answer.get("payment_preimage") or "") or None)  # fmt: skip


async def _change(
    deps: Deps, client: MintClient, merchant_id: str, blanks: list[Output], signed: list[object]
) -> int:
    """Unblind the returned change (the mint sets each output's amount) and keep it."""
    outputs = [
        Output(int(s["amount"]), str(s["id"]), blank.secret, blank.r)  # type: ignore[index]
        for blank, s in zip(blanks, signed, strict=False)
    ]
    if not outputs:
        return 0
    proofs = await client.proofs_from(outputs, [s for s in signed if isinstance(s, dict)])
    keystore = deps.merchants.keystore
    rows = [(y_of(p.secret), p.amount, keystore.seal(json.dumps(p.as_json()))) for p in proofs]
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.insert_proofs(conn, merchant_id, client.url, None, rows, deps.now())
    return sum(p.amount for p in proofs)
