"""nostrbazaar: a merchant-side order processor for Nostr marketplaces.

The repository root is this package, laid out as an LNbits extension. Names are
resolved lazily, relative to this package (LNbits may import it as `nostrbazaar` or
as `lnbits.extensions.nostrbazaar`), so importing it has no side effects:

- standalone: `create_app` (the FastAPI app of `make run`);
- inside LNbits: `db`, `nostrbazaar_ext`, `nostrbazaar_static_files`,
  `nostrbazaar_start`, `nostrbazaar_stop` (see `extension/entry.py`; they import LNbits).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "create_app": ".app",
    "db": ".extension.entry",
    "nostrbazaar_ext": ".extension.entry",
    "nostrbazaar_static_files": ".extension.entry",
    "nostrbazaar_start": ".extension.entry",
    "nostrbazaar_stop": ".extension.entry",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module, __name__), name)
