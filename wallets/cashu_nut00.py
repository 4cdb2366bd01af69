"""Cashu's blind Diffie-Hellman key exchange (NUT-00), on libsecp256k1.

A wallet picks a secret `x` and a blinding factor `r`, sends `B_ = Y + r*G`
(`Y = hash_to_curve(x)`), the mint answers `C_ = k*B_`, and the wallet keeps
`C = C_ - r*K` (`K = k*G`, the mint's public key for that amount): the proof
`(x, C)` the mint will later accept, which it cannot link to `B_`. `Y` also
names a proof when asking the mint whether it is spent (NUT-07), and is what
the database keeps UNIQUE so the same proof is never counted twice.
Proven against the NUT-00 test vectors (tests/unit/wallets/test_cashu_nut00.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..nostr import secp

DOMAIN_SEPARATOR = b"Secp256k1_HashToCurve_Cashu_"
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class CashuCryptoError(ValueError):
    """A point or scalar that is not valid on secp256k1."""


@dataclass(frozen=True)
class PublicKey:
    """A point on secp256k1, kept compressed (33 bytes); arithmetic goes through `secp`."""

    compressed: bytes


def point(hex_or_bytes: str | bytes) -> PublicKey:
    """A compressed secp256k1 point; `CashuCryptoError` when it is none."""
    try:
        raw = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
        return PublicKey(secp.point_check(raw))
    except ValueError as error:
        raise CashuCryptoError(f"not a secp256k1 point: {error}") from None


def hex_of(pub: PublicKey) -> str:
    return pub.compressed.hex()


def hash_to_curve(message: bytes) -> PublicKey:
    """NUT-00's map: the first `02 || sha256(sha256(DST || x) || counter)` on the curve."""
    msg_hash = hashlib.sha256(DOMAIN_SEPARATOR + message).digest()
    for counter in range(2**16):
        candidate = hashlib.sha256(msg_hash + counter.to_bytes(4, "little")).digest()
        try:
            return PublicKey(secp.point_check(b"\x02" + candidate))
        except ValueError:  # not on the curve: try the next counter
            continue
    raise CashuCryptoError("no point found for this message")


def y_of(secret: str) -> str:
    """`Y` of a proof's secret, hex: its public name at the mint (NUT-07)."""
    return hex_of(hash_to_curve(secret.encode()))


def _scalar(value: int) -> bytes:
    if not 0 < value < CURVE_ORDER:
        raise CashuCryptoError("scalar out of range")
    return value.to_bytes(32, "big")


def blind(secret: bytes, r: int) -> PublicKey:
    """`B_ = hash_to_curve(secret) + r*G`."""
    return PublicKey(secp.point_tweak_add(hash_to_curve(secret).compressed, _scalar(r)))


def unblind(c_: PublicKey, r: int, mint_key: PublicKey) -> PublicKey:
    """`C = C_ - r*K`, computed as `C_ + (n - r)*K`."""
    r_k = secp.point_tweak_mul(mint_key.compressed, _scalar(CURVE_ORDER - r))
    try:
        return PublicKey(secp.point_add(c_.compressed, r_k))
    except ValueError as error:
        raise CashuCryptoError(str(error)) from None


def sign_blinded(k: int, b_: PublicKey) -> PublicKey:
    """The mint's side, `C_ = k*B_` (for the test vectors and a check of `unblind`)."""
    return PublicKey(secp.point_tweak_mul(b_.compressed, _scalar(k)))


def new_blinding() -> tuple[str, int]:
    """A fresh random secret (64 hex characters, as NUT-00 advises) and blinding factor."""
    r = 0
    while not 0 < r < CURVE_ORDER:
        r = int.from_bytes(secrets.token_bytes(32), "big")
    return secrets.token_hex(32), r
