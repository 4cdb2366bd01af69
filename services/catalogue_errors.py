"""Domain errors of the catalogue and account services; the API maps each to a status."""

from __future__ import annotations


class CatalogueError(Exception):
    """Base class: `detail` is a message safe to show the merchant."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(CatalogueError):
    """The object does not exist, or belongs to someone else (never said which)."""


class Conflict(CatalogueError):
    """The request clashes with the current state (duplicate key, object in use)."""


class InvalidRequest(CatalogueError):
    """The body is well formed but cannot be applied (unknown zone, wrong currency)."""


class SignupDisabled(CatalogueError):
    """`POST /account` while NOSTRBAZAAR_ALLOW_SIGNUP is false."""


class Unavailable(CatalogueError):
    """Something the request needs (the relays, the wallet) is not running."""
