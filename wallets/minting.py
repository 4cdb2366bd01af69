"""Minting a batch of invoices on a backend that mints one at a time (LNbits, NWC, ...).

A batch of orders wants its invoices together, but most backends have no batch
call: each invoice is one HTTP request or one NIP-47 round trip. So the batch is
minted by a few workers, `MINT_CONCURRENCY` calls in flight at most (a backend
is not flooded by a burst of orders), and each request's outcome is kept in its
own slot: a refusal, or any other exception, is that request's WalletError and
never fails its neighbours. Backends that can mint a batch at once (the fake
wallet) implement `create_invoices` themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Protocol

from loguru import logger

from .base import InvoiceRequest, NewInvoice, WalletError

__all__ = ["MINT_CONCURRENCY", "InvoiceRequest", "create_invoices_concurrently", "mint_one"]

MINT_CONCURRENCY = 8  # calls in flight at once, per batch


class OneAtATime(Protocol):
    """A backend minting one invoice a call (`Wallet`, and LNbits-internal, which takes no
    description hash)."""

    @property
    def name(self) -> str: ...

    @property
    def create_invoice(self) -> Callable[..., Awaitable[NewInvoice]]: ...


async def create_invoices_concurrently(
    wallet: OneAtATime, requests: Sequence[InvoiceRequest], limit: int = MINT_CONCURRENCY
) -> list[NewInvoice | WalletError]:
    """One `wallet.create_invoice` per request, at most `limit` at a time; the outcomes in
    the order of `requests` (a NewInvoice, or the WalletError that request ended with)."""
    unminted = WalletError(f"{wallet.name} wallet: the invoice was not minted")
    outcomes: list[NewInvoice | WalletError] = [unminted] * len(requests)  # each slot replaced
    pending = iter(enumerate(requests))
    async with asyncio.TaskGroup() as workers:
        for _ in range(min(limit, len(requests))):
            workers.create_task(_mint_in_turn(wallet, pending, outcomes))
    return outcomes


async def _mint_in_turn(
    wallet: OneAtATime,
    pending: Iterator[tuple[int, InvoiceRequest]],
    outcomes: list[NewInvoice | WalletError],
) -> None:
    """Take the next request until none is left (the workers share one iterator)."""
    for index, request in pending:
        outcomes[index] = await mint_one(wallet, request)


async def mint_one(wallet: OneAtATime, request: InvoiceRequest) -> NewInvoice | WalletError:
    """`wallet.create_invoice` for `request`; whatever it raises is returned as a WalletError
    (an unexpected exception is logged and wrapped with its reason)."""
    hashed: dict[str, Any] = {"description_hash": request.description_hash}
    if request.description_hash is None:  # not every backend takes one (LNbits-internal)
        hashed = {}
    try:
        new: NewInvoice = await wallet.create_invoice(
            request.amount_msat, request.memo, request.expiry_seconds, dict(request.extra), **hashed
        )
    except WalletError as error:
        return error
    except Exception as error:
        logger.opt(exception=error).warning(
            "{} wallet: minting an invoice failed unexpectedly: {!r}", wallet.name, error
        )
        wrapped = WalletError(f"{wallet.name} wallet: {type(error).__name__}: {error}")
        wrapped.__cause__ = error
        return wrapped
    return new
