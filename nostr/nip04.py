"""NIP-04 (deprecated but still how most NIP-15 orders arrive): AES-256-CBC direct messages.

The key is the unhashed x coordinate of the ECDH point; content is
`base64(ciphertext)?iv=base64(iv)`. There is no MAC, so a wrong key is caught
only by the padding and UTF-8 checks: almost always, never with certainty.
A padding oracle is no concern here: the ciphertext sits inside an event signed
by its sender, so nobody else can submit variations under that sender's key.
"""

from __future__ import annotations

import binascii
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .keys import InvalidKey, PrivateKey
from .nip19 import public_key_hex

_BLOCK = 16


class Nip04Error(ValueError):
    """Content that cannot be a NIP-04 message for this key pair."""


def _shared_key(key: PrivateKey, pubkey: str) -> bytes:
    """The cached ECDH x coordinate; a bad public key is a Nip04Error."""
    try:
        return key.ecdh_x(public_key_hex(pubkey))
    except InvalidKey as error:
        raise Nip04Error(f"invalid public key: {error}") from None


def encrypt(key: PrivateKey, pubkey_hex: str, plaintext: str, iv: bytes | None = None) -> str:
    """Encrypt `plaintext` from `key` to `pubkey_hex` (hex or npub); random IV unless given."""
    iv = os.urandom(_BLOCK) if iv is None else iv
    if len(iv) != _BLOCK:
        raise Nip04Error("iv must be 16 bytes")
    data = plaintext.encode()
    pad = _BLOCK - len(data) % _BLOCK
    encryptor = Cipher(algorithms.AES(_shared_key(key, pubkey_hex)), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(data + bytes((pad,)) * pad) + encryptor.finalize()
    return f"{_b64encode(ciphertext)}?iv={_b64encode(iv)}"


def decrypt(key: PrivateKey, pubkey_hex: str, content: str) -> str:
    """Decrypt a message between `key` and `pubkey_hex`; `Nip04Error` with a reason otherwise."""
    ciphertext, iv = _split(content)
    decryptor = Cipher(algorithms.AES(_shared_key(key, pubkey_hex)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes((pad,)) * pad:
        raise Nip04Error("bad padding (wrong key or corrupted message)")
    try:
        return padded[:-pad].decode()
    except UnicodeDecodeError:
        raise Nip04Error("plaintext is not UTF-8 (wrong key or corrupted message)") from None


def _split(content: str) -> tuple[bytes, bytes]:
    """Parse `base64?iv=base64` into (ciphertext, iv), checking sizes."""
    if not isinstance(content, str):
        raise Nip04Error("content is not a string")
    body, sep, iv_text = content.partition("?iv=")
    if not sep:
        raise Nip04Error("content has no '?iv=' part")
    ciphertext, iv = _b64decode(body, "ciphertext"), _b64decode(iv_text, "iv")
    if len(iv) != _BLOCK:
        raise Nip04Error(f"iv must be 16 bytes, not {len(iv)}")
    if not ciphertext or len(ciphertext) % _BLOCK:
        raise Nip04Error("ciphertext length is not a positive multiple of 16")
    return ciphertext, iv


def _b64encode(data: bytes) -> str:
    """Standard base64 with padding, no newline."""
    return binascii.b2a_base64(data, newline=False).decode()


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: no stray characters, correct padding."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except ValueError:
        raise Nip04Error(f"{what} is not valid base64") from None
