"""A Shopstr checkout: the order arrives with its payment, which is checked before it counts.

The order is placed like any other (priced, its stock reserved, an invoice of
ours issued), but quietly: nothing is sent yet. Then its payment is taken:
ecash is redeemed at its mint (`cashu_payments`); a Lightning payment to the
merchant's lightning address, which Shopstr names only by the address and the
amount, is matched to a settled, unclaimed invoice of that address of that
amount (claimed for this order, once). A real Shopstr checkout is never short:
`shopstr.required_msat` allows Shopstr's donation and its melt fee. The buyer
then hears either that the payment was received, or why not, with our invoice
to pay instead. Delivery details that follow (`order-info`) are kept in the
order's conversation.
"""

from __future__ import annotations

from loguru import logger

from ..crud.lnurl import unclaimed_of_amount
from ..crud.orders import OrderRow, get_order, load_state
from ..crud.uow import unit_of_work
from ..market import shopstr_replies
from ..market.dialect import SHOPSTR, refusal
from ..market.gamma import refused_prefix
from ..market.nip15 import STATUS_UPDATE, format_sats
from ..market.shopstr import ShopstrCheckout, ShopstrDetails, required_msat
from ..orders.events import InvoiceIssued
from ..wallets.base import InvoiceState, WalletError
from ..wallets.cashu_client import MintUnavailable
from .cashu_payments import EcashRefused, redeem_for_order
from .conversation import Incoming, Verdict, claim, record_message, settle_verdict
from .deps import Deps
from .gamma_orders import Refused, pay_by_address
from .intake import place_order
from .outgoing import send_replies

ADDRESS_WINDOW = 24 * 3600  # a lightning-address payment is looked for among a day's invoices


async def receive_checkout(deps: Deps, incoming: Incoming, checkout: ShopstrCheckout) -> Verdict:
    """Place the order, then take its payment; the buyer is told what became of both."""
    verdict = await place_order(deps, incoming, checkout, quiet=True)
    if verdict.verdict == "ignored":
        return verdict
    order = await get_order(deps.db, incoming.merchant.id, checkout.id)
    if order is None or verdict.verdict == "rejected" or order.status == "rejected":
        reason = (order.reason if order else None) or verdict.reason or "refused"
        await _tell(
            deps,
            incoming,
            checkout.id,
            [refusal(SHOPSTR, checkout.id, f"{refused_prefix(checkout.id)}{reason}")],
        )
        return verdict
    problem = await _take_payment(deps, incoming, checkout, order)
    if problem is not None:
        await _ask_for_payment(deps, incoming, checkout.id, problem)
    return verdict


async def _take_payment(
    deps: Deps, incoming: Incoming, checkout: ShopstrCheckout, order: OrderRow
) -> str | None:
    """Pay the order with what the checkout carries; None when paid, else why not."""
    payment = checkout.payment
    if payment is None:
        return "the checkout carried no payment"
    try:
        if payment.method == "ecash":
            needed = required_msat(order.total_msat, checkout.donation_msat, "ecash")
            await redeem_for_order(deps, incoming.merchant, order.id, payment.reference, needed)
            return None
        return await _by_address(deps, incoming, checkout, order)
    except EcashRefused as refused:
        return f"your ecash was not accepted: {refused}"
    except MintUnavailable as error:
        logger.warning("order {}: the mint could not be asked: {}", order.id, error)
        return "your ecash mint could not be reached; the token will be tried again"
    except Refused as refused:
        return str(refused)


async def _by_address(
    deps: Deps, incoming: Incoming, checkout: ShopstrCheckout, order: OrderRow
) -> str | None:
    """Match the buyer's payment to the lightning address by its amount (Shopstr names no
    invoice): a settled invoice of exactly that amount, unclaimed, from the last day."""
    needed = required_msat(order.total_msat, checkout.donation_msat, "lightning")
    paid = checkout.paid_msat
    if paid < needed:
        return (f"the payment of {format_sats(paid)} is short of the {format_sats(needed)} "
                "this order needs")  # fmt: skip
    since = incoming.created_at - ADDRESS_WINDOW
    for invoice in await unclaimed_of_amount(deps.db, incoming.merchant.id, paid, since):
        try:
            status = await deps.wallet.get_invoice_status(invoice.payment_hash)
        except WalletError as error:
            logger.warning("order {}: wallet could not check {}: {}", order.id,
                           invoice.payment_hash, error)  # fmt: skip
            continue
        if status.state is InvoiceState.SETTLED:
            await pay_by_address(deps, incoming, order.id, invoice.payment_hash,
                                 invoice.amount_msat, claim_inbox=False)  # fmt: skip
            return None
    return (f"no payment of {format_sats(paid)} to the merchant's lightning address was "
            "found")  # fmt: skip


async def _ask_for_payment(deps: Deps, incoming: Incoming, order_id: str, problem: str) -> None:
    """Why the payment did not count, and our invoice, so the buyer can still pay."""
    async with unit_of_work(deps.db) as conn:
        state = await load_state(conn, incoming.merchant.id, order_id)
        replies = [shopstr_replies.note(f"Order {order_id} is not paid: {problem}.", order_id)]
        if state.invoice is not None and state.quote is not None and not state.paid:
            issued = InvoiceIssued(state.invoice, state.quote)
            request = shopstr_replies.payment_request(state, issued, incoming.customer)
            replies += [request] if request is not None else []
        await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                           order_id, replies, deps.now())  # fmt: skip


async def _tell(deps: Deps, incoming: Incoming, order_id: str, replies: list) -> None:  # type: ignore[type-arg]
    async with unit_of_work(deps.db) as conn:
        await send_replies(conn, incoming.merchant, incoming.customer, incoming.transport,
                           order_id, replies, deps.now())  # fmt: skip


async def receive_details(
    deps: Deps, incoming: Incoming, details: ShopstrDetails, restore: bool = False
) -> Verdict:
    """Delivery details for an order: kept in the order's conversation for the merchant."""
    order = await get_order(deps.db, incoming.merchant.id, details.id)
    known = order is not None and order.public_key == incoming.customer
    reason = None if known else f"no order {details.id} of this buyer"
    verdict = Verdict("processed" if known else "ignored", reason, details.id)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming, verdict=verdict.verdict)
        await record_message(conn, incoming, STATUS_UPDATE if known else -1,
                             details.id if known else None)  # fmt: skip
        await settle_verdict(conn, incoming, verdict, expected=(verdict.verdict,))
    return verdict


async def keep_ignored(deps: Deps, incoming: Incoming, reason: str) -> Verdict:
    """A message that is nobody's order (a repost in kind 16): kept with the reason."""
    verdict = Verdict("ignored", reason)
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming, verdict="ignored")
        await settle_verdict(conn, incoming, verdict, expected=("ignored",))
    return verdict
