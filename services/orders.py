"""The order engine's entry points for the API, in one place.

Every function takes `Deps` first (`runtime.deps`); restores also take the
relay pool (`runtime.pool`). Errors to map to HTTP statuses:

- 404: `OrderNotFound`, `MerchantNotFound`, `LookupError` (restore: event not found)
- 409: `OrderAlreadyPaid`, `OrderNotPaid`, `OrderAlreadyShipped`, `IllegalTransition`,
  `StockUnavailable`, `PaymentAlreadyRecorded` (all `OrderError`)
- 422: `OrderInvalid` (the order no longer fits the catalogue), `MessageInvalid`
- 503: `WalletUnavailable`
"""

from __future__ import annotations

from ..crud.messages import list_customers, list_messages
from ..crud.orders import OrderRow, get_order, get_order_events
from ..order_errors import (
    IllegalTransition,
    OrderAlreadyPaid,
    OrderAlreadyShipped,
    OrderError,
    OrderNotFound,
    OrderNotPaid,
    PaymentAlreadyRecorded,
    StockUnavailable,
)
from ..restore import RestoreSummary, restore_order, restore_orders
from .chat import MessageInvalid, read_conversation, send_message
from .deps import Deps, MerchantNotFound
from .intake import WalletUnavailable
from .order_admin import cancel_order, complete_order, reissue_invoice, ship_order
from .pricing import OrderInvalid

__all__ = [
    "Deps",
    "IllegalTransition",
    "MerchantNotFound",
    "MessageInvalid",
    "OrderAlreadyPaid",
    "OrderAlreadyShipped",
    "OrderError",
    "OrderInvalid",
    "OrderNotFound",
    "OrderNotPaid",
    "OrderRow",
    "PaymentAlreadyRecorded",
    "RestoreSummary",
    "StockUnavailable",
    "WalletUnavailable",
    "cancel_order",
    "complete_order",
    "get_order",
    "get_order_events",
    "list_customers",
    "list_messages",
    "read_conversation",
    "reissue_invoice",
    "restore_order",
    "restore_orders",
    "send_message",
    "ship_order",
]
