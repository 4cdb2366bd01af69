"""What a restore reports while it runs, for whoever shows it (the job runner).

Every method is called on the event loop, synchronously, and must return at
once: a listener that wants to write or send something marks itself dirty and
does it on its own time.
"""

from __future__ import annotations

from typing import Protocol

from ...services.conversation import Verdict


class Counts(Protocol):
    """The restore's counts so far (`RestoreSummary`)."""

    events_scanned: int
    events_new: int
    errors: int


class RestoreProgress(Protocol):
    def fetched(self, summary: Counts) -> None:
        """A page of the history was ingested; `summary` counts so far."""

    def placing(self, total: int) -> None:
        """The parked orders are about to be placed: `total` of them."""

    def placed(self, verdict: Verdict) -> None:
        """One parked order was placed (or refused, or left waiting)."""

    def checking(self) -> None:
        """The restored invoices are being looked up at the wallet."""
