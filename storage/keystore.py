"""Merchant private keys at rest: AES-256-GCM under a secret from configuration.

The secret comes from `NOSTRBAZAAR_SECRET` or, when unset, from a file generated
once in the data directory (`secret.key`, mode 0600).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"nbk1"


class KeyStoreError(ValueError):
    """A sealed value that cannot be opened with this secret."""


class KeyStore:
    """Seals and opens short secrets (hex private keys) with one master secret."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(hashlib.sha256(b"nostrbazaar/keystore/" + secret.encode()).digest())

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), _VERSION)
        return (_VERSION + nonce + sealed).hex()

    def open(self, token: str) -> str:
        try:
            raw = bytes.fromhex(token)
        except ValueError:
            raise KeyStoreError("sealed value is not hex") from None
        if raw[:4] != _VERSION or len(raw) < 4 + 12 + 16:
            raise KeyStoreError("sealed value has an unknown format")
        try:
            return self._aead.decrypt(raw[4:16], raw[16:], _VERSION).decode()
        except InvalidTag:
            raise KeyStoreError("sealed value does not open with this secret") from None


def load_secret(configured: str | None, data_dir: Path) -> str:
    """The configured secret, or the one generated once into `data_dir/secret.key`."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
