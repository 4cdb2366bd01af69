"""Ecash for an order: a Cashu token is redeemed at its mint before the order counts as paid.

Before anything is claimed the token is read, its mint must be one the merchant
trusts (`NOSTRBAZAAR_CASHU_MINTS` and the merchant's own list), its worth after
the mint's input fee must cover what the order needs, and the mint must say no
proof of it is spent (NUT-07). Each refusal is recorded with its reason and
changes nothing else: unredeemed ecash is never counted.

Then, in one transaction, the token is claimed for the order: its proofs' Y
values go into a table whose primary key is the Y, so the same token can be
claimed once, however many messages carry it. The outputs we are about to have
signed are sealed into the same row first: if the swap's answer is lost (we
stopped, the mint went away), a later try asks the mint for those signatures
again (NUT-09) instead of losing the money. Only after the mint swapped the
proofs for new ones (NUT-03), which only this merchant can spend, does one
transaction store them sealed, mark the token redeemed and pay the order.
"""

from __future__ import annotations

import hashlib
import json

from loguru import logger

from ..crud import cashu as cashu_crud
from ..crud.orders import load_state
from ..crud.uow import unit_of_work
from ..market import dialect
from ..orders.commands import ReceiveEcash
from ..orders.errors import OrderError
from ..wallets.cashu_client import (
    Keyset,
    MintClient,
    MintRefused,
    MintUnavailable,
    Output,
    input_fee,
    new_outputs,
)
from ..wallets.cashu_nut00 import y_of
from ..wallets.cashu_token import Proof, Token, TokenError, decode
from .conversation import announce
from .deps import Deps, Merchant
from .order_store import Applied, apply_command
from .outgoing import send_replies
from .payments import republish_stock


class EcashRefused(Exception):
    """The token does not pay the order; the message says why, for the buyer."""


async def trusted_mints(deps: Deps, merchant_id: str) -> list[str]:
    """The mints whose ecash this merchant takes: the configured ones and its own."""
    own = await cashu_crud.merchant_mints(deps.db, merchant_id)
    return list(dict.fromkeys([*deps.settings.cashu_mints, *own]))


def payment_id(ys: list[str]) -> str:
    """The payment's name in the order log: `cashu:` and a digest of its proofs' Y values."""
    return "cashu:" + hashlib.sha256(",".join(sorted(ys)).encode()).hexdigest()[:40]


async def redeem_for_order(
    deps: Deps, merchant: Merchant, order_id: str, text: str, required_msat: int
) -> Applied | None:
    """Redeem the token `text` and pay `order_id` with it; `EcashRefused` (recorded) when it
    cannot pay, `MintUnavailable` when the mint could not be asked (the claim is kept)."""
    token = await _checked(deps, merchant, order_id, text)
    client = MintClient(token.mint)
    keysets = await client.keysets()
    proofs = _resolved(token, keysets)
    net = token.amount - input_fee(proofs, keysets)
    ys = [y_of(proof.secret) for proof in proofs]
    if net * 1000 < required_msat:
        await _refuse(deps, merchant, order_id, token, ys, _short(token.amount, net, required_msat))
    states = await client.check_state(ys)
    if any(states.get(y) != "UNSPENT" for y in ys):
        await _refuse(deps, merchant, order_id, token, ys, "the token was already spent")
    outputs = new_outputs(net, _active(keysets).id)
    redemption = await _claim(deps, merchant, order_id, token, text, ys, outputs)
    return await finish(deps, merchant, redemption, proofs, outputs)


async def _checked(deps: Deps, merchant: Merchant, order_id: str, text: str) -> Token:
    try:
        token = decode(text)
    except (TokenError, ValueError, UnicodeDecodeError) as error:
        digest = "cashu:" + hashlib.sha256(text.encode()).hexdigest()[:40]
        await _record(
            deps, merchant, order_id, digest, "", 0, f"the token cannot be read ({error})"
        )
        raise EcashRefused(f"the ecash token cannot be read ({error})") from None
    if token.mint not in await trusted_mints(deps, merchant.id):
        reason = f"the token's mint {token.mint} is not one this merchant accepts"
        await _refuse(
            deps, merchant, order_id, token, [y_of(p.secret) for p in token.proofs], reason
        )
    if token.unit != "sat":
        await _refuse(deps, merchant, order_id, token, [], f"the token is in {token.unit}, not sat")
    return token


def _resolved(token: Token, keysets: dict[str, Keyset]) -> list[Proof]:
    """The proofs with their full keyset id (a V4 token may carry a short one)."""
    resolved = []
    for proof in token.proofs:
        full = proof.id if proof.id in keysets else next(
            (kid for kid in keysets if kid.startswith(proof.id)), None)  # fmt: skip
        if full is None or keysets[full].unit != token.unit:
            raise EcashRefused(f"the token holds a proof of keyset {proof.id}, unknown to its mint")
        resolved.append(Proof(proof.amount, full, proof.secret, proof.C))
    return resolved


def _active(keysets: dict[str, Keyset]) -> Keyset:
    active = sorted((k for k in keysets.values() if k.active and k.unit == "sat"),
                    key=lambda k: (k.input_fee_ppk, k.id))  # fmt: skip
    if not active:
        raise MintUnavailable("the mint has no active sat keyset")
    return active[0]


def _short(face: int, net: int, required_msat: int) -> str:
    fee = f" ({net} sat after the mint's fee)" if net != face else ""
    return (f"the token is worth {face} sat{fee}; the order needs "
            f"{-(-required_msat // 1000)} sat")  # fmt: skip


async def _refuse(
    deps: Deps, merchant: Merchant, order_id: str, token: Token, ys: list[str], reason: str
) -> None:
    """Record the refusal, then raise it: the token stays the buyer's."""
    ident = (
        payment_id(ys) if ys else "cashu:" + hashlib.sha256(repr(token).encode()).hexdigest()[:40]
    )
    await _record(deps, merchant, order_id, ident, token.mint, token.amount * 1000, reason)
    raise EcashRefused(reason)


async def _record(
    deps: Deps, merchant: Merchant, order_id: str, ident: str, mint: str, amount_msat: int,
    reason: str,
) -> None:  # fmt: skip
    now = deps.now()
    row = cashu_crud.Redemption(
        f"{ident}:refused:{order_id}", merchant.id, order_id, mint, amount_msat, 0, "refused",
        reason, None, None, now, now,
    )  # fmt: skip
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.record_refusal(conn, row)
    logger.warning("ecash for order {} refused: {}", order_id, reason)


async def _claim(
    deps: Deps, merchant: Merchant, order_id: str, token: Token, text: str, ys: list[str],
    outputs: list[Output],
) -> cashu_crud.Redemption:  # fmt: skip
    keystore, now = deps.merchants.keystore, deps.now()
    sealed_outputs = keystore.seal(json.dumps([o.as_json() for o in outputs]))
    net_msat = sum(o.amount for o in outputs) * 1000
    row = cashu_crud.Redemption(
        payment_id(ys), merchant.id, order_id, token.mint, net_msat,
        token.amount * 1000 - net_msat, "claimed", None, keystore.seal(text), sealed_outputs,
        now, now,
    )  # fmt: skip
    try:
        async with unit_of_work(deps.db) as conn:
            await cashu_crud.claim_token(conn, row, ys)
    except cashu_crud.TokenTaken as taken:
        earlier = await cashu_crud.get_redemption(deps.db, taken.redemption_id)
        where = f" for order {earlier.order_id}" if earlier else ""
        raise EcashRefused(f"this token was already received{where}") from None
    return row


async def finish(
    deps: Deps, merchant: Merchant, redemption: cashu_crud.Redemption, proofs: list[Proof],
    outputs: list[Output],
) -> Applied | None:  # fmt: skip
    """Swap the claimed proofs at the mint (or get the signatures back), then store the new
    proofs and pay the order, in one transaction."""
    client = MintClient(redemption.mint)
    try:
        signatures = await client.swap(proofs, outputs)
    except MintRefused as refused:
        signatures = await client.restore(outputs) if refused.spent else []
        if len(signatures) != len(outputs):
            reason = "the token was already spent" if refused.spent else refused.detail
            await _end(deps, redemption, "refused", reason)
            raise EcashRefused(reason) from None
    new = await client.proofs_from(outputs, signatures)
    return await _pay(deps, merchant, redemption, new)


async def _end(deps: Deps, redemption: cashu_crud.Redemption, state: str, reason: str) -> None:
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.settle_redemption(conn, redemption.id, state, reason, deps.now())


async def _pay(
    deps: Deps, merchant: Merchant, redemption: cashu_crud.Redemption, new: list[Proof]
) -> Applied | None:
    keystore = deps.merchants.keystore
    rows = [(y_of(p.secret), p.amount, keystore.seal(json.dumps(p.as_json()))) for p in new]
    command = ReceiveEcash(redemption.id, sum(p.amount for p in new) * 1000)
    async with unit_of_work(deps.db) as conn:
        await cashu_crud.insert_proofs(conn, merchant.id, redemption.mint, redemption.id, rows,
                                       deps.now())  # fmt: skip
        await cashu_crud.settle_redemption(conn, redemption.id, "redeemed", None, deps.now())
        state = await load_state(conn, merchant.id, redemption.order_id)
        try:
            applied = await apply_command(conn, merchant.id, state, command,
                                          f"cashu:{redemption.id}", deps.now())  # fmt: skip
        except OrderError as error:  # the proofs are ours either way: keep them, say so
            logger.warning("redeemed ecash {} paid no order: {}", redemption.id, error)
            return None
        await _answer(conn, deps, merchant, applied)
    announce(deps, applied)
    return applied


async def _answer(conn: object, deps: Deps, merchant: Merchant, applied: Applied) -> None:
    details = applied.after.details
    if details is not None:
        answers = dialect.replies(applied.after, applied.events)
        await send_replies(conn, merchant, details.customer, details.transport,  # type: ignore[arg-type]
                           applied.after.order_id, answers, deps.now())  # fmt: skip
    await republish_stock(conn, merchant, applied)  # type: ignore[arg-type]


async def resume_claimed(deps: Deps) -> int:
    """Finish the redemptions a stop or an absent mint left claimed; how many ended."""
    ended = 0
    for redemption in await cashu_crud.claimed_redemptions(deps.db):
        keystore = deps.merchants.keystore
        try:
            merchant = await deps.merchants.get(redemption.merchant_id)
            token = decode(keystore.open(redemption.token_sealed or ""))
            outputs = [
                Output.from_json(o)
                for o in json.loads(keystore.open(redemption.outputs_sealed or ""))
            ]
            keysets = await MintClient(token.mint).keysets()
            await finish(deps, merchant, redemption, _resolved(token, keysets), outputs)
        except MintUnavailable as error:
            logger.warning("ecash redemption {} waits for its mint: {}", redemption.id, error)
            continue
        except EcashRefused:
            pass
        ended += 1
    return ended
