"""SQL for ecash: tokens received (redemptions), the proofs we hold, withdrawals. No rules here.

A token is claimed for one order by writing its proofs' Y values into
`cashu_spent_ys`, whose primary key is the Y: the same token (or any token
sharing a proof with it) can be claimed once, whoever races for it. The proofs
the mint gives in exchange are stored sealed, one row per proof, keyed by Y.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..storage.database import Connection, Database
from .uow import rows


class TokenTaken(Exception):
    """A proof of the token was claimed before (by the redemption named)."""

    def __init__(self, redemption_id: str) -> None:
        super().__init__(redemption_id)
        self.redemption_id = redemption_id


@dataclass(frozen=True)
class Redemption:
    id: str
    merchant_id: str
    order_id: str
    mint: str
    amount_msat: int
    fee_msat: int
    state: str
    reason: str | None
    token_sealed: str | None
    outputs_sealed: str | None
    created_at: int
    updated_at: int


_REDEMPTION = (
    "id, merchant_id, order_id, mint, amount_msat, fee_msat, state, reason, token_sealed,"
    " outputs_sealed, created_at, updated_at"
)


async def claim_token(conn: Connection, redemption: Redemption, ys: list[str]) -> None:
    """Record the redemption and claim each of its proofs' Y; `TokenTaken` (the caller's
    unit of work then rolls back whole) when any Y was claimed before."""
    await conn.execute(
        f"INSERT INTO cashu_redemptions ({_REDEMPTION}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
        (
            redemption.id, redemption.merchant_id, redemption.order_id, redemption.mint,
            redemption.amount_msat, redemption.fee_msat, redemption.state, redemption.reason,
            redemption.token_sealed, redemption.outputs_sealed, redemption.created_at,
            redemption.updated_at,
        ),
    )  # fmt: skip
    for y in ys:
        cursor = await conn.execute(
            "INSERT INTO cashu_spent_ys (y, redemption_id) VALUES (?, ?)"
            " ON CONFLICT (y) DO NOTHING",
            (y, redemption.id),
        )
        if cursor.rowcount != 1:
            found = await rows(conn, "SELECT redemption_id FROM cashu_spent_ys WHERE y = ?", (y,))
            raise TokenTaken(str(found[0]["redemption_id"]) if found else "")


async def record_refusal(conn: Connection, redemption: Redemption) -> None:
    """A token refused before any claim (untrusted mint, short, spent): kept with the reason,
    its Y values not claimed (it was never ours)."""
    await conn.execute(
        f"INSERT INTO cashu_redemptions ({_REDEMPTION}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
        " ON CONFLICT (id) DO NOTHING",
        (
            redemption.id, redemption.merchant_id, redemption.order_id, redemption.mint,
            redemption.amount_msat, redemption.fee_msat, "refused", redemption.reason, None, None,
            redemption.created_at, redemption.updated_at,
        ),
    )  # fmt: skip


async def settle_redemption(
    conn: Connection, redemption_id: str, state: str, reason: str | None, now: int
) -> None:
    """The end of a claimed redemption; the sealed token and outputs are no longer needed."""
    await conn.execute(
        "UPDATE cashu_redemptions SET state = ?, reason = ?, token_sealed = NULL,"
        " outputs_sealed = NULL, updated_at = ? WHERE id = ?",
        (state, reason, now, redemption_id),
    )


async def get_redemption(db: Database, redemption_id: str) -> Redemption | None:
    row = await db.fetchone(
        f"SELECT {_REDEMPTION} FROM cashu_redemptions WHERE id = ?",  # noqa: S608
        (redemption_id,),
    )
    return None if row is None else Redemption(*tuple(row))


async def redemptions_for(db: Database, merchant_id: str, order_id: str) -> list[Redemption]:
    """Every token received for the order, oldest first (what happened to each)."""
    found = await db.fetchall(
        f"SELECT {_REDEMPTION} FROM cashu_redemptions WHERE merchant_id = ? AND order_id = ?"  # noqa: S608
        " ORDER BY created_at, id",
        (merchant_id, order_id),
    )
    return [Redemption(*tuple(row)) for row in found]


async def claimed_redemptions(db: Database) -> list[Redemption]:
    """Redemptions whose swap did not finish (the mint was away, or we stopped)."""
    found = await db.fetchall(
        f"SELECT {_REDEMPTION} FROM cashu_redemptions WHERE state = 'claimed'"  # noqa: S608
        " ORDER BY created_at LIMIT 100"
    )
    return [Redemption(*tuple(row)) for row in found]


# -- the proofs we hold ----------------------------------------------------------------------


@dataclass(frozen=True)
class HeldProof:
    y: str
    merchant_id: str
    mint: str
    amount: int
    sealed: str
    state: str


async def insert_proofs(
    conn: Connection, merchant_id: str, mint: str, redemption_id: str | None,
    proofs: list[tuple[str, int, str]], now: int,
) -> None:  # fmt: skip
    """(Y, amount, sealed proof) rows, unspent."""
    await conn.executemany(
        "INSERT INTO cashu_proofs (y, merchant_id, mint, amount, sealed, state, redemption_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, 'unspent', ?, ?)",
        [
            (y, merchant_id, mint, amount, sealed, redemption_id, now)
            for y, amount, sealed in proofs
        ],
    )


async def unspent_proofs(
    db: Database, merchant_id: str, mint: str | None = None
) -> list[HeldProof]:
    sql = (
        "SELECT y, merchant_id, mint, amount, sealed, state FROM cashu_proofs"
        " WHERE merchant_id = ? AND state = 'unspent'"
    )
    params: tuple[Any, ...] = (merchant_id,)
    if mint is not None:
        sql, params = sql + " AND mint = ?", (*params, mint)
    found = await db.fetchall(sql + " ORDER BY amount DESC, y", params)
    return [HeldProof(*tuple(row)) for row in found]


async def balances(db: Database, merchant_id: str) -> dict[str, int]:
    """Unspent sats per mint."""
    found = await db.fetchall(
        "SELECT mint, SUM(amount) AS sats FROM cashu_proofs WHERE merchant_id = ?"
        " AND state = 'unspent' GROUP BY mint ORDER BY mint",
        (merchant_id,),
    )
    return {str(row["mint"]): int(row["sats"]) for row in found}


async def take_proofs(conn: Connection, ys: list[str], withdrawal_id: str) -> bool:
    """Mark proofs as being withdrawn; False when any of them is no longer unspent."""
    taken = 0
    for y in ys:
        cursor = await conn.execute(
            "UPDATE cashu_proofs SET state = 'withdrawing', withdrawal_id = ?"
            " WHERE y = ? AND state = 'unspent'",
            (withdrawal_id, y),
        )
        taken += cursor.rowcount
    return taken == len(ys)


async def end_withdrawal(
    conn: Connection, withdrawal_id: str, state: str, detail: str, fee: int, now: int
) -> None:
    """`done`: its proofs are spent; `failed`: they are unspent again."""
    proof_state = "spent" if state == "done" else "unspent"
    await conn.execute(
        "UPDATE cashu_proofs SET state = ?, withdrawal_id = CASE WHEN ? = 'spent'"
        " THEN withdrawal_id END WHERE withdrawal_id = ? AND state = 'withdrawing'",
        (proof_state, proof_state, withdrawal_id),
    )
    await conn.execute(
        "UPDATE cashu_withdrawals SET state = ?, detail = ?, fee = ?, updated_at = ? WHERE id = ?",
        (state, detail, fee, now, withdrawal_id),
    )


async def insert_withdrawal(
    conn: Connection,
    withdrawal_id: str,
    merchant_id: str,
    mint: str,
    kind: str,
    amount: int,
    now: int,
) -> None:
    await conn.execute(
        "INSERT INTO cashu_withdrawals (id, merchant_id, mint, kind, amount, state, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        (withdrawal_id, merchant_id, mint, kind, amount, now, now),
    )


async def withdrawals(db: Database, merchant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    found = await db.fetchall(
        "SELECT id, mint, kind, amount, fee, state, detail, created_at FROM cashu_withdrawals"
        " WHERE merchant_id = ? ORDER BY created_at DESC, id LIMIT ?",
        (merchant_id, limit),
    )
    return [dict(row) for row in found]


# -- the merchant's own trusted mints --------------------------------------------------------


async def merchant_mints(db: Database, merchant_id: str) -> list[str]:
    row = await db.fetchone(
        "SELECT mints FROM cashu_settings WHERE merchant_id = ?", (merchant_id,)
    )
    return [] if row is None else [m for m in json.loads(row["mints"]) if isinstance(m, str)]


async def set_merchant_mints(
    conn: Connection, merchant_id: str, mints: list[str], now: int
) -> None:
    await conn.execute(
        "INSERT INTO cashu_settings (merchant_id, mints, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (merchant_id) DO UPDATE SET mints = excluded.mints,"
        " updated_at = excluded.updated_at",
        (merchant_id, json.dumps(mints), now),
    )
