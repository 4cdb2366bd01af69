"""Every wallet unit test runs on both libsecp256k1 bindings (BOLT11 signatures)."""

from __future__ import annotations

from support.bindings import libsecp_binding  # noqa: F401
