"""The named domain errors of the order state machine.

A command that cannot apply to an order raises one of these instead of silently
doing nothing; the service layer maps each to an answer (HTTP status, message to
the customer). The message is written for people.
"""


class OrderError(Exception):
    """A command that cannot apply to the order as it is; the message is for people."""


class OrderNotFound(OrderError):
    """No order with this id for this merchant (yet)."""


class DuplicateOrder(OrderError):
    """The same order was sent again: nothing to do."""


class OrderIdTaken(OrderError):
    """The order id is already used by this merchant for a different order."""


class OrderAlreadyPaid(OrderError):
    """The order has been paid; it can no longer be cancelled, expired or reissued."""


class OrderNotPaid(OrderError):
    """The order has not been paid, so it cannot be shipped."""


class OrderAlreadyShipped(OrderError):
    """The order has already been shipped."""


class IllegalTransition(OrderError):
    """The command makes no sense in the order's current status."""


class PaymentAlreadyRecorded(OrderError):
    """This payment hash was counted before; money is never counted twice."""


class UnknownInvoice(OrderError):
    """The payment hash does not belong to any invoice of this order."""


class StockUnavailable(OrderError):
    """Not enough stock left for the order's items."""
