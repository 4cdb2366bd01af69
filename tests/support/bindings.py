"""Run a test folder once on each cffi binding of libsecp256k1 (`nostr.secp`).

Standalone uses the `secp256k1` package, LNbits only has `coincurve`: both must
give the same keys, signatures and shared secrets. A conftest imports this fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nostrbazaar.nostr import secp


@pytest.fixture(autouse=True, params=secp.BINDINGS)
def libsecp_binding(request: pytest.FixtureRequest) -> Iterator[str]:
    """Make the parameter's binding current for the test, then restore the previous one."""
    previous = secp.current.name
    try:
        secp.use(request.param)
    except ImportError:
        pytest.fail(f"{request.param} is not installed: `make install` adds it (dev dependency)")
    yield request.param
    secp.use(previous)
