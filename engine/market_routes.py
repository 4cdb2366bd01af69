"""Where the messages only some dialects send go: Gamma's receipts, cancellations and
markers, Conduit's payment proofs (read as receipts) and reposts, Shopstr's checkouts
and delivery details. `route_market` answers None for the messages every dialect shares
(an order, a status, plain text), which `ingest.route` handles itself."""

from __future__ import annotations

from typing import Any

from ..market.conduit import Ignored
from ..market.gamma import BuyerCancel, OrderMarker, Receipt
from ..market.shopstr import ShopstrCheckout, ShopstrDetails
from ..services.conversation import Incoming, Verdict
from ..services.deps import Deps
from ..services.gamma_orders import note_marker, receive_gamma
from ..services.shopstr_orders import keep_ignored, receive_checkout, receive_details

MarketMessage = OrderMarker | Receipt | BuyerCancel | Ignored | ShopstrCheckout | ShopstrDetails


async def route_market(
    deps: Deps, incoming: Incoming, message: Any, *, restore: bool = False
) -> Verdict | None:
    """Hand a dialect's own message to its service; None when it is a shared one."""
    if isinstance(message, OrderMarker):
        return await note_marker(deps, incoming, message)
    if isinstance(message, Receipt | BuyerCancel):
        return await receive_gamma(deps, incoming, message, restore=restore)
    if isinstance(message, Ignored):
        return await keep_ignored(deps, incoming, message.reason)
    if isinstance(message, ShopstrDetails):
        return await receive_details(deps, incoming, message, restore)
    if isinstance(message, ShopstrCheckout) and not restore:  # a restore parks it as an order
        return await receive_checkout(deps, incoming, message)
    return None
