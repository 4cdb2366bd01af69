"""SQL for the invoices minted for merchants' lightning addresses (LNURL-pay). No rules here.

A buyer who pays the merchant's lightning address names the invoice in a receipt;
`claim_address_invoice` ties it to one order, once: the row is claimed only while
`used_by_order` is empty, and `(merchant_id, used_by_order)` is unique, so two
receipts racing, or one invoice claimed for two orders, can never both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..storage.database import Connection, Database


@dataclass(frozen=True)
class AddressInvoice:
    payment_hash: str
    merchant_id: str
    amount_msat: int
    bolt11: str
    expires_at: int
    used_by_order: str | None = None
    created_at: int = 0


_COLUMNS = "payment_hash, merchant_id, amount_msat, bolt11, expires_at, used_by_order, created_at"


async def insert_address_invoice(conn: Connection, invoice: AddressInvoice) -> None:
    await conn.execute(
        f"INSERT INTO lnurl_invoices ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            invoice.payment_hash, invoice.merchant_id, invoice.amount_msat, invoice.bolt11,
            invoice.expires_at, invoice.used_by_order, invoice.created_at,
        ),
    )  # fmt: skip


async def find_address_invoice(db: Database, payment_hash: str) -> AddressInvoice | None:
    """The lightning-address invoice with this payment hash, if we minted one."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM lnurl_invoices WHERE payment_hash = ?",  # noqa: S608
        (payment_hash,),
    )
    return None if row is None else AddressInvoice(*tuple(row))


async def claim_address_invoice(
    conn: Connection, merchant_id: str, payment_hash: str, order_id: str
) -> bool:
    """Tie the invoice to `order_id`; False when it is taken, or the order has one already."""
    cursor = await conn.execute(
        "UPDATE lnurl_invoices SET used_by_order = ?"
        " WHERE payment_hash = ? AND merchant_id = ? AND used_by_order IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM lnurl_invoices"
        " WHERE merchant_id = ? AND used_by_order = ?)",
        (order_id, payment_hash, merchant_id, merchant_id, order_id),
    )
    return bool(cursor.rowcount == 1)


async def unclaimed_of_amount(
    db: Database, merchant_id: str, amount_msat: int, since: int
) -> list[AddressInvoice]:
    """The merchant's lightning-address invoices of exactly `amount_msat`, minted since
    `since` and not yet claimed for an order, oldest first (a payment that names no invoice,
    only its amount and the address, is matched among these)."""
    found = await db.fetchall(
        f"SELECT {_COLUMNS} FROM lnurl_invoices WHERE merchant_id = ? AND amount_msat = ?"  # noqa: S608
        " AND used_by_order IS NULL AND created_at >= ? ORDER BY created_at, payment_hash LIMIT 20",
        (merchant_id, amount_msat, since),
    )
    return [AddressInvoice(*tuple(row)) for row in found]
