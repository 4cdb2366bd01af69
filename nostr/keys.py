"""secp256k1 keys for Nostr: x-only public keys, BIP-340 signatures, ECDH.

Calls libsecp256k1 through its cffi binding directly (`secp.current`: the
`secp256k1` package, or `coincurve` where only that is installed, as in LNbits):
it is the fastest path here and keeps every check explicit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import secp

_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class InvalidKey(ValueError):
    """A key that is not a valid secp256k1 key."""


def _hex32(value: str, what: str) -> bytes:
    """Decode exactly 32 bytes of hex, naming `what` in the error."""
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidKey(f"{what} must be 64 hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InvalidKey(f"{what} is not hex") from None


@lru_cache(maxsize=65536)
def _parse_xonly(pubkey: bytes) -> object | None:
    """Parse a 32-byte x-only key into libsecp256k1's form; None when off the curve."""
    b = secp.current
    parsed = b.ffi.new("secp256k1_xonly_pubkey *")
    if not b.lib.secp256k1_xonly_pubkey_parse(b.ctx, parsed, pubkey):
        return None
    return parsed


def is_valid_public_key(pubkey_hex: str) -> bool:
    """True when `pubkey_hex` is a 32-byte x coordinate of a point on the curve."""
    try:
        return _parse_xonly(_hex32(pubkey_hex, "public key")) is not None
    except InvalidKey:
        return False


def verify_signature(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """BIP-340 verification of `signature` over `message` by x-only `pubkey`."""
    if len(pubkey) != 32 or len(signature) != 64:
        return False
    parsed = _parse_xonly(pubkey)
    if parsed is None:
        return False
    b = secp.current
    return bool(b.lib.secp256k1_schnorrsig_verify(b.ctx, signature, message, len(message), parsed))


@dataclass(frozen=True)
class PrivateKey:
    """A secp256k1 secret key with its x-only public key (and libsecp256k1's keypair,
    made by the binding named in `_binding`)."""

    secret: bytes
    _keypair: object = field(repr=False, compare=False)
    public_key: str = ""
    _binding: str = field(default="", repr=False, compare=False)

    @classmethod
    def generate(cls) -> PrivateKey:
        """A fresh key from the OS CSPRNG."""
        while True:
            try:
                return cls.from_bytes(os.urandom(32))
            except InvalidKey:  # pragma: no cover - probability ~2**-128
                continue

    @classmethod
    def from_hex(cls, secret_hex: str) -> PrivateKey:
        """Load a 64-hex-character secret; `InvalidKey` when malformed or out of range."""
        return cls.from_bytes(_hex32(secret_hex, "private key"))

    @classmethod
    def from_bytes(cls, secret: bytes) -> PrivateKey:
        """Load a 32-byte secret in [1, n-1] and derive its x-only public key."""
        if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _CURVE_ORDER:
            raise InvalidKey("private key out of range")
        b = secp.current
        keypair = _keypair(b, secret)
        xonly = b.ffi.new("secp256k1_xonly_pubkey *")
        b.lib.secp256k1_keypair_xonly_pub(b.ctx, xonly, b.ffi.NULL, keypair)
        out = b.ffi.new("unsigned char [32]")
        b.lib.secp256k1_xonly_pubkey_serialize(b.ctx, out, xonly)
        return cls(secret, keypair, bytes(b.ffi.buffer(out, 32)).hex(), b.name)

    @property
    def hex(self) -> str:
        """The secret as 64 lowercase hex characters."""
        return self.secret.hex()

    def sign(self, message: bytes, aux_rand: bytes | None = None) -> bytes:
        """BIP-340 Schnorr signature; fresh auxiliary randomness unless given."""
        aux = os.urandom(32) if aux_rand is None else aux_rand
        if len(aux) != 32:
            raise ValueError("aux_rand must be 32 bytes")
        b = secp.current
        # A key made before the binding changed (tests switch it) gets a keypair of this one.
        keypair = self._keypair if self._binding == b.name else _keypair(b, self.secret)
        sig = b.ffi.new("unsigned char [64]")
        if len(message) == 32:  # an event id: the plain call, no parameter struct to build
            ok = b.schnorrsig_sign32(b.ctx, sig, message, keypair, aux)
        else:
            ok = _sign_custom(b, sig, message, keypair, aux)
        if not ok:  # pragma: no cover - only with a corrupted keypair
            raise RuntimeError("libsecp256k1 refused to sign")
        return bytes(b.ffi.buffer(sig, 64))

    def ecdh_x(
        self, pubkey_hex: str, *, cache: bool = True, peer_is_ephemeral: bool = False
    ) -> bytes:
        """The unhashed x coordinate of secret * P, as NIP-04 and NIP-44 use it.

        Pass `cache=False` when this key is used once (a gift wrap's ephemeral): the
        result is not kept, only the peer's parsed point is. Pass also
        `peer_is_ephemeral=True` when the peer's key is used once (opening a gift
        wrap), so that nothing is kept: one-time keys would only evict useful entries.
        """
        if cache:
            return _shared_x(self.secret, pubkey_hex)
        parse = _parse_even_point if peer_is_ephemeral else _even_point
        return _multiply_x(self.secret, parse(pubkey_hex))


def _keypair(b: secp.Binding, secret: bytes) -> Any:
    keypair = b.ffi.new("secp256k1_keypair *")
    if not b.lib.secp256k1_keypair_create(b.ctx, keypair, secret):
        raise InvalidKey("private key rejected by libsecp256k1")
    return keypair


def _sign_custom(b: secp.Binding, sig: Any, message: bytes, keypair: Any, aux: bytes) -> int:
    """BIP-340 over a message of any length (the extraparams form of the call)."""
    params = b.ffi.new("secp256k1_schnorrsig_extraparams *")
    params.magic = bytes((0xDA, 0x6F, 0xB3, 0x8C))
    params.noncefp = b.ffi.NULL
    params.ndata = b.ffi.from_buffer(aux)
    return int(
        b.lib.secp256k1_schnorrsig_sign_custom(b.ctx, sig, message, len(message), keypair, params)
    )


def _parse_even_point(pubkey_hex: str) -> Any:
    """The point with x = `pubkey_hex` and even y (parsing it takes a square root)."""
    compressed = b"\x02" + _hex32(pubkey_hex, "public key")
    b = secp.current
    point = b.ffi.new("secp256k1_pubkey *")
    if not b.lib.secp256k1_ec_pubkey_parse(b.ctx, point, compressed, 33):
        raise InvalidKey("public key is not on the curve")
    return point


_even_point = lru_cache(maxsize=16384)(_parse_even_point)


def _multiply_x(secret: bytes, parsed: Any) -> bytes:
    """The x coordinate of `secret` times the parsed point.

    `secp256k1_ecdh` runs in constant time; `ec_pubkey_tweak_mul` (faster by about
    10 us) does not, and here the point can be chosen by anyone who sends us a gift
    wrap while the scalar is the merchant's long-lived key. Its hash step is the
    binding's `copy_x` (see `secp`).
    """
    b = secp.current
    out = b.ffi.new("unsigned char [32]")
    if not b.lib.secp256k1_ecdh(b.ctx, out, parsed, secret, b.copy_x, b.ffi.NULL):
        raise InvalidKey("ECDH failed")
    return bytes(out)


@lru_cache(maxsize=16384)
def _shared_x(secret: bytes, pubkey_hex: str) -> bytes:
    """ECDH between two long-lived keys, remembered: a merchant hears from the same
    customers again and again."""
    return _multiply_x(secret, _even_point(pubkey_hex))


def _forget_parsed(_binding: secp.Binding) -> None:
    """Parsed points are the old binding's objects; results are dropped too, so that
    a test of the new binding computes them again."""
    _parse_xonly.cache_clear()
    _even_point.cache_clear()
    _shared_x.cache_clear()


secp.on_switch(_forget_parsed)
