"""nostrbazaar: a merchant-side order processor for Nostr marketplaces.

The repository root is this package, laid out as an LNbits extension. Names are
resolved lazily through the canonical `nostrbazaar` package so that importing
this file (pytest does, under the checkout's directory name) has no side effects.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "create_app": "nostrbazaar.app",
    "nostrbazaar_ext": "nostrbazaar.app",
    "nostrbazaar_start": "nostrbazaar.app",
    "nostrbazaar_stop": "nostrbazaar.app",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module), name)
