"""A restore that can read no relay says so: the job fails with "no relay could be read"
and each relay's state, instead of finishing with "0 events"; with one relay of two
down, the summary says which relay was read and why the other was not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from nostrbazaar.crud.jobs import get_job
from nostrbazaar.engine.embedded_relay import EmbeddedRelay, free_port
from nostrbazaar.engine.restore import reach
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import create_catalogue, settings_for
from support.pg import DatabaseAt

Start = Callable[[Path, tuple[str, ...]], Awaitable[Runtime]]


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reach, "CONNECT_WAIT", 1.0)  # a down relay does not come back here


@pytest.fixture
async def start(database_at: DatabaseAt) -> AsyncIterator[Start]:
    running: list[Runtime] = []

    async def opened(data_dir: Path, relays: tuple[str, ...]) -> Runtime:
        url = await database_at(data_dir)
        settings = settings_for(data_dir, relays=relays, database_url=url)
        runtime = Runtime(settings, background=False)
        await runtime.start()
        running.append(runtime)
        await create_catalogue(runtime.db, runtime.keystore, PrivateKey.generate())
        return runtime

    yield opened
    for runtime in running:
        await runtime.stop()


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


async def test_a_restore_with_every_relay_down_fails_saying_no_relay_could_be_read(
    tmp_path: Path, start: Start
) -> None:
    down = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    runtime = await start(tmp_path / "shop", (down,))
    job = await runtime.jobs.restore("merchant-1")
    await runtime.jobs.wait(job.id)
    ended = await get_job(runtime.db, "merchant-1", job.id)
    assert ended is not None and ended.state == "failed"
    assert ended.error is not None
    assert ended.error.startswith(f"no relay could be read ({down}: ")
    assert ended.result is None


async def test_a_restore_with_one_relay_of_two_down_names_what_it_read(
    tmp_path: Path, start: Start, relay: EmbeddedRelay
) -> None:
    down = f"ws://127.0.0.1:{free_port()}"
    runtime = await start(tmp_path / "shop", (relay.url, down))
    job = await runtime.jobs.restore("merchant-1")
    await runtime.jobs.wait(job.id)
    ended = await get_job(runtime.db, "merchant-1", job.id)
    assert ended is not None and ended.state == "done", ended
    assert ended.result is not None
    assert ended.result["relays_read"] == [relay.url]
    assert list(ended.result["relays_unread"]) == [down]
