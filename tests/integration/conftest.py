"""Integration fixtures: make `tests/support` importable and capture loguru output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

# Tests run with --import-mode=importlib, so tests/ is not on sys.path by itself;
# this makes `from support.fake_relay import FakeRelay` work.
_TESTS = str(Path(__file__).resolve().parent.parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture
def log_messages() -> Iterator[list[str]]:
    """Every loguru message (WARNING and above) logged during the test, as text."""
    messages: list[str] = []
    sink = logger.add(lambda message: messages.append(str(message)), level="WARNING")
    yield messages
    logger.remove(sink)
