"""Watching what every shop on this server depends on: the Lightning wallet and the relays.

`HealthWatch.check` runs every few seconds (a loop of the order engine). A wallet
whose health check fails for `wallet_down_after` seconds, or a relay that is not
connected for `relay_down_after` seconds (a few minutes: relays drop and come back
all the time), becomes one notification per outage for every active merchant: the
wallet and the configured relays serve them all. An outage is keyed by when it
began, so a long one is reported once, and the next one again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from loguru import logger

from ..services.deps import Deps
from ..services.notifications import RELAY_DOWN, WALLET_UNREACHABLE, Note, Notifier

WATCH_SECONDS = 15.0
WALLET_DOWN_AFTER = 30.0
RELAY_DOWN_AFTER = 180.0


class Pool(Protocol):
    def status(self) -> dict[str, str]: ...


class HealthWatch:
    """Raises a notification when the wallet or a relay stays unreachable."""

    def __init__(
        self,
        deps: Deps,
        pool: Pool,
        *,
        wallet_down_after: float = WALLET_DOWN_AFTER,
        relay_down_after: float = RELAY_DOWN_AFTER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.deps, self.pool = deps, pool
        self.notifier = Notifier.from_deps(deps)
        self.wallet_down_after, self.relay_down_after = wallet_down_after, relay_down_after
        self.clock = clock
        self._wallet_down: float | None = None
        self._wallet_told = False
        self._relay_down: dict[str, float] = {}
        self._relay_told: set[str] = set()

    async def check(self) -> None:
        """One look at the wallet and at each relay."""
        await self.check_wallet()
        await self.check_relays()

    async def check_wallet(self) -> None:
        ok, detail = await self._wallet_health()
        now = self.clock()
        if ok:
            if self._wallet_told:
                logger.info("the wallet is reachable again")
            self._wallet_down, self._wallet_told = None, False
            return
        since = self._wallet_down = self._wallet_down or now
        if self._wallet_told or now - since < self.wallet_down_after:
            return
        self._wallet_told = True
        backend = self.deps.settings.wallet
        logger.warning(
            "the {} wallet has been unreachable since {}: {}", backend, int(since), detail
        )
        note = Note(
            WALLET_UNREACHABLE, "critical", f"The Lightning wallet ({backend}) cannot be reached",
            f"{detail}. New orders wait for it; payments are checked again when it is back.",
            "wallet", backend, f"wallet:{int(since)}",
        )  # fmt: skip
        await self.notifier.notify_all(note)

    async def _wallet_health(self) -> tuple[bool, str]:
        try:
            health: dict[str, Any] = await self.deps.wallet.health()
        except Exception as error:  # an unreachable wallet may fail in any way: that is the news
            return False, str(error) or type(error).__name__
        return bool(health.get("ok")), str(health.get("detail") or "no answer")

    async def check_relays(self) -> None:
        status = self.pool.status()
        now = self.clock()
        for url in list(self._relay_down):
            if status.get(url) in (None, "connected"):
                self._relay_down.pop(url)
                self._relay_told.discard(url)
        down = {url: state for url, state in status.items() if state != "connected"}
        everything = len(down) == len(status) > 0
        for url, state in down.items():
            since = self._relay_down.setdefault(url, now)
            if url in self._relay_told or now - since < self.relay_down_after:
                continue
            self._relay_told.add(url)
            await self.notifier.notify_all(_relay_note(url, state, since, now, everything))


def _relay_note(url: str, state: str, since: float, now: float, everything: bool) -> Note:
    minutes = max(1, int((now - since) // 60))
    body = f"It is {state}." + (
        " No relay is connected: customers' orders and your replies wait." if everything else ""
    )
    return Note(
        RELAY_DOWN, "critical" if everything else "normal",
        f"Relay {url} has been down for {minutes} minute{'s' if minutes > 1 else ''}", body,
        "relay", url, f"relay:{url}:{int(since)}",
    )  # fmt: skip
