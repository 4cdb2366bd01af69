"""NIP-44 version 2: ECDH + HKDF conversation keys, padded ChaCha20, HMAC-SHA256.

Follows the current 44.md, including the extended 6-byte length prefix for
plaintexts of 65536 bytes and more (older vectors call those lengths invalid).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from .keys import InvalidKey, PrivateKey
from .nip19 import public_key_hex

VERSION = 2
MIN_PLAINTEXT = 1
MAX_PLAINTEXT = 0xFFFFFFFF
EXTENDED_PREFIX_THRESHOLD = 65536
# Our own ceiling on base64 payload size, checked before decoding (44.md asks for one):
# 16 MiB comfortably holds any order message, and a 10 MB plaintext still fits.
MAX_PAYLOAD_CHARS = 1 << 24
_SALT = b"nip44-v2"
_COUNTER0 = bytes(4)
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))  # RFC 2104 ipad, as a translation
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))  # RFC 2104 opad


class Nip44Error(ValueError):
    """A NIP-44 payload or key that fails a check; the message says which."""


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 through the C one-shot path."""
    return hmac.digest(key, message, "sha256")


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 after HMAC's inner and outer key blocks, to reuse for several messages."""
    block = key.ljust(64, b"\0")  # our keys are 32 bytes: never over a block
    return hashlib.sha256(block.translate(_INNER_PAD)), hashlib.sha256(block.translate(_OUTER_PAD))


def _hmac_with(pads: tuple[hashlib._Hash, hashlib._Hash], message: bytes) -> bytes:
    """HMAC-SHA256 of `message` under the key `pads` were made from."""
    inner = pads[0].copy()
    inner.update(message)
    outer = pads[1].copy()
    outer.update(inner.digest())
    return outer.digest()


def _derive(key: PrivateKey, pubkey: str, cache: bool, peer_is_ephemeral: bool = False) -> bytes:
    """HKDF-extract(salt='nip44-v2', IKM=unhashed ECDH x)."""
    try:
        shared_x = key.ecdh_x(
            public_key_hex(pubkey), cache=cache, peer_is_ephemeral=peer_is_ephemeral
        )
    except InvalidKey as error:
        raise Nip44Error(f"invalid public key: {error}") from None
    return _hmac(_SALT, shared_x)


@lru_cache(maxsize=16384)
def _cached_conversation_key(key: PrivateKey, pubkey: str) -> bytes:
    """Memoised `_derive`: a merchant talks to the same customers again and again."""
    return _derive(key, pubkey, cache=False)


def conversation_key(
    key: PrivateKey, pubkey_hex: str, *, cache: bool = True, peer_is_ephemeral: bool = False
) -> bytes:
    """The symmetric key between `key` and `pubkey_hex` (hex or npub): conv(a, B) == conv(b, A).

    Cached by default; pass `cache=False` when `key` is a one-time key (a gift wrap's
    ephemeral), and also `peer_is_ephemeral=True` when `pubkey_hex` is one (opening a
    gift wrap): see `PrivateKey.ecdh_x`.
    """
    if cache:
        return _cached_conversation_key(key, pubkey_hex)
    return _derive(key, pubkey_hex, cache=False, peer_is_ephemeral=peer_is_ephemeral)


def get_conversation_key(secret_hex: str, pubkey_hex: str) -> bytes:
    """The conversation key from a hex secret, as the test vectors state it."""
    try:
        key = PrivateKey.from_hex(secret_hex)
    except InvalidKey as error:
        raise Nip44Error(f"invalid secret key: {error}") from None
    return _derive(key, pubkey_hex, cache=False, peer_is_ephemeral=True)


def get_message_keys(conversation_key: bytes, nonce: bytes) -> tuple[bytes, bytes, bytes]:
    """HKDF-expand(PRK=conversation key, info=nonce, L=76) -> chacha key, nonce, hmac key."""
    if len(conversation_key) != 32:
        raise Nip44Error("conversation key must be 32 bytes")
    if len(nonce) != 32:
        raise Nip44Error("nonce must be 32 bytes")
    pads = _hmac_pads(conversation_key)  # three HMACs under one key: its pads made once
    t1 = _hmac_with(pads, nonce + b"\x01")
    t2 = _hmac_with(pads, t1 + nonce + b"\x02")
    t3 = _hmac_with(pads, t2 + nonce + b"\x03")
    return t1, t2[:12], t2[12:] + t3[:12]


def calc_padded_len(unpadded_len: int) -> int:
    """Padded size: 32 bytes minimum, then power-of-two-dependent chunks."""
    if unpadded_len < MIN_PLAINTEXT:
        raise Nip44Error("plaintext must be at least 1 byte")
    if unpadded_len <= 32:
        return 32
    next_power = 1 << (unpadded_len - 1).bit_length()
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((unpadded_len - 1) // chunk + 1)


def _pad(plaintext: str) -> bytes:
    """Length prefix (u16, or 0x0000 + u32 from 65536 bytes on) + UTF-8 + zeros."""
    try:
        data = plaintext.encode()
    except UnicodeEncodeError:
        raise Nip44Error("plaintext is not valid Unicode (unpaired surrogate)") from None
    size = len(data)
    if not MIN_PLAINTEXT <= size <= MAX_PLAINTEXT:
        raise Nip44Error(f"invalid plaintext length {size}")
    if size < EXTENDED_PREFIX_THRESHOLD:
        prefix = size.to_bytes(2, "big")
    else:
        prefix = bytes(2) + size.to_bytes(4, "big")
    return prefix + data + bytes(calc_padded_len(size) - size)


def _unpad(padded: bytes) -> str:
    """Read the length prefix, check the padded size, return the UTF-8 text."""
    size = int.from_bytes(padded[:2], "big")
    prefix = 2
    if size == 0:
        size, prefix = int.from_bytes(padded[2:6], "big"), 6
        if size < EXTENDED_PREFIX_THRESHOLD:
            raise Nip44Error("invalid padding")
    if len(padded) < prefix + size or len(padded) != prefix + calc_padded_len(size):
        raise Nip44Error("invalid padding")
    try:
        return padded[prefix : prefix + size].decode()
    except UnicodeDecodeError:
        raise Nip44Error("plaintext is not UTF-8") from None


def _chacha20(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """RFC 8439 ChaCha20 with the block counter starting at 0."""
    return Cipher(algorithms.ChaCha20(key, _COUNTER0 + nonce), mode=None).encryptor().update(data)


def encrypt(plaintext: str, conversation_key: bytes, nonce: bytes | None = None) -> str:
    """Encrypt to a base64 payload; a fresh random nonce unless one is given (tests only)."""
    nonce = os.urandom(32) if nonce is None else nonce
    chacha_key, chacha_nonce, hmac_key = get_message_keys(conversation_key, nonce)
    ciphertext = _chacha20(chacha_key, chacha_nonce, _pad(plaintext))
    mac = _hmac(hmac_key, nonce + ciphertext)
    raw = b"\x02" + nonce + ciphertext + mac
    return binascii.b2a_base64(raw, newline=False).decode()


def _decode_payload(payload: str) -> tuple[bytes, bytes, bytes]:
    """Split a payload into (nonce, ciphertext, mac) after the 44.md size and version checks."""
    if not isinstance(payload, str) or not payload or payload[0] == "#":
        raise Nip44Error("unknown encryption version")
    if not 132 <= len(payload) <= MAX_PAYLOAD_CHARS:
        raise Nip44Error(f"invalid payload length: {len(payload)}")
    try:
        data = binascii.a2b_base64(payload, strict_mode=True)
    except ValueError:
        raise Nip44Error("invalid base64") from None
    if len(data) < 99:
        raise Nip44Error(f"invalid data length: {len(data)}")
    if data[0] != VERSION:
        raise Nip44Error(f"unknown encryption version {data[0]}")
    return data[1:33], data[33:-32], data[-32:]


def decrypt(payload: str, conversation_key: bytes) -> str:
    """Check the MAC in constant time, then decrypt and unpad; `Nip44Error` otherwise."""
    nonce, ciphertext, mac = _decode_payload(payload)
    chacha_key, chacha_nonce, hmac_key = get_message_keys(conversation_key, nonce)
    if not hmac.compare_digest(_hmac(hmac_key, nonce + ciphertext), mac):
        raise Nip44Error("invalid MAC")
    return _unpad(_chacha20(chacha_key, chacha_nonce, ciphertext))
