"""A restore's first step for a merchant with no catalogue: bring it back from the relays.

The merchant's own stalls, products and deletions are paged out of every relay like the
DM history (`history.py`), verified by the pool, and handed to
`services.catalogue_recover`, which keeps the newest undeleted version of each and
inserts it accepted. The orders placed afterwards price against it; their stock is
counted against the published quantities on lent stock (`stock.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...crud.recovery import has_catalogue
from ...nostr.event import Event
from ...services.catalogue_recover import (
    RecoveredCatalogue,
    catalogue_filters,
    recover_catalogue,
)
from ...services.deps import Deps, Merchant
from .history import Fetcher, history_pages
from .stock import StockLoans


@dataclass
class CatalogueSummary:
    """What a restore brought back of the catalogue (for the API and the dashboard)."""

    stalls: int = 0
    products: int = 0
    zones: int = 0
    skipped: list[str] = field(default_factory=list)


async def recover_first(
    deps: Deps, pool: Fetcher, merchant: Merchant
) -> tuple[StockLoans | None, CatalogueSummary | None]:
    """Before a restore: the catalogue recovered when there was none, and the stock loans
    its orders are placed with; (None, None) when the merchant has a catalogue."""
    recovered = await recover_if_empty(deps, pool, merchant)
    if recovered is None:
        return None, None
    return StockLoans(deps, merchant.id, recovered.published), summary_of(recovered)


async def recover_if_empty(
    deps: Deps, pool: Fetcher, merchant: Merchant
) -> RecoveredCatalogue | None:
    """The merchant's catalogue from its own signed events, when it has none here; else None."""
    if await has_catalogue(deps.db, merchant.id):
        return None
    found: dict[str, Event] = {}
    async for page in history_pages(pool, catalogue_filters(merchant.public_key)):
        found.update((event.id, event) for event in page)
    return await recover_catalogue(deps.db, merchant.id, merchant.public_key, found.values())


def summary_of(recovered: RecoveredCatalogue) -> CatalogueSummary:
    return CatalogueSummary(
        recovered.stalls, recovered.products, recovered.zones, list(recovered.skipped)
    )
