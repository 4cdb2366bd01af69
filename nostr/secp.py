"""libsecp256k1 through whichever cffi binding of it is installed: `secp256k1` or `coincurve`.

Both packages compile the same C library and expose it raw (`ffi`, `lib` and a
context), which is how `keys.py` calls it: every check explicit, no wrapper
objects on the hot path. Standalone installs `secp256k1` (pyproject); LNbits 1.6
ships `coincurve` and no `secp256k1`, and installs no dependency of an extension.
So the binding is chosen at import: `secp256k1` when importable, else `coincurve`.
The nostr unit tests run on both, against the same vectors (BIP-340, NIP-44).

The two differ in two names only: the context object, and BIP-340 signing's entry
point (`schnorrsig_sign` in the secp256k1 package's older headers, `schnorrsig_sign32`
in coincurve's newer library; same arguments, same result).

ECDH keeps libsecp256k1's constant-time `secp256k1_ecdh` with its hash step replaced
by a copy of x (NIP-04 and NIP-44 use x unhashed): coincurve's `PrivateKey.ecdh` takes
no hash function (it returns sha256 of the compressed point) and its `multiply` is
`ec_pubkey_tweak_mul`, which is not constant time, so neither is used; the same
callback is made with each binding's `ffi.callback`.

Also here: the recoverable ECDSA that BOLT11 invoices are signed with (the fake
wallet's node key, and reading the payee of an invoice).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BINDINGS = ("secp256k1", "coincurve")  # in order of preference


class BindingUnavailable(ImportError):
    """Neither cffi binding of libsecp256k1 can be imported."""


@dataclass(frozen=True)
class Binding:
    """One binding's raw handles; `copy_x` is its ECDH hash callback returning x."""

    name: str
    ffi: Any
    lib: Any
    ctx: Any
    schnorrsig_sign32: Any
    copy_x: Any


def _with_copy_x(name: str, ffi: Any, lib: Any, ctx: Any, sign32: Any) -> Binding:
    @ffi.callback("int(unsigned char *, const unsigned char *, const unsigned char *, void *)")
    def copy_x(output: Any, x32: Any, _y32: Any, _data: Any) -> int:
        """secp256k1_ecdh's hash step, replaced by a copy: NIP-04 and NIP-44 use x unhashed."""
        ffi.memmove(output, x32, 32)
        return 1

    return Binding(name, ffi, lib, ctx, sign32, copy_x)


def _secp256k1() -> Binding:
    from secp256k1 import ffi, lib, secp256k1_ctx

    return _with_copy_x("secp256k1", ffi, lib, secp256k1_ctx, lib.secp256k1_schnorrsig_sign)


def _coincurve() -> Binding:
    from coincurve._libsecp256k1 import ffi, lib
    from coincurve.context import GLOBAL_CONTEXT

    sign32 = getattr(lib, "secp256k1_schnorrsig_sign32", None) or lib.secp256k1_schnorrsig_sign
    return _with_copy_x("coincurve", ffi, lib, GLOBAL_CONTEXT.ctx, sign32)


_LOADERS: dict[str, Callable[[], Binding]] = {"secp256k1": _secp256k1, "coincurve": _coincurve}
_loaded: dict[str, Binding] = {}


def load(name: str) -> Binding:
    """The named binding (loaded once); ImportError when its package is not installed."""
    if name not in _loaded:
        _loaded[name] = _LOADERS[name]()
    return _loaded[name]


def available() -> list[str]:
    """The bindings importable here, in order of preference."""
    found = []
    for name in BINDINGS:
        try:
            load(name)
        except ImportError:
            continue
        found.append(name)
    return found


def _first() -> Binding:
    for name in BINDINGS:
        try:
            return load(name)
        except ImportError:
            continue
    raise BindingUnavailable("install `secp256k1` or `coincurve` (libsecp256k1 bindings)")


current: Binding = _first()
_listeners: list[Callable[[Binding], None]] = []


def on_switch(listener: Callable[[Binding], None]) -> None:
    """Call `listener` with the new binding whenever `use` changes it (caches holding
    the old binding's objects drop them)."""
    _listeners.append(listener)


def use(name: str) -> Binding:
    """Make the named binding the one every call goes through (tests run both)."""
    global current
    current = load(name)
    for listener in _listeners:
        listener(current)
    return current


# ---------------------------------------------------------------- recoverable ECDSA


class EcdsaKey:
    """A secp256k1 key for recoverable ECDSA (BOLT11 signatures), its 33-byte public key."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = os.urandom(32) if secret is None else secret
        self.public_key = public_key_of(self.secret)

    def sign_recoverable(self, message: bytes) -> bytes:
        """64-byte compact signature and the recovery id, over sha256(message)."""
        b = current
        sig = b.ffi.new("secp256k1_ecdsa_recoverable_signature *")
        digest = hashlib.sha256(message).digest()
        if not b.lib.secp256k1_ecdsa_sign_recoverable(
            b.ctx, sig, digest, self.secret, b.ffi.NULL, b.ffi.NULL
        ):
            raise ValueError("libsecp256k1 refused to sign")
        compact, recovery_id = b.ffi.new("unsigned char [64]"), b.ffi.new("int *")
        b.lib.secp256k1_ecdsa_recoverable_signature_serialize_compact(
            b.ctx, compact, recovery_id, sig
        )
        return bytes(b.ffi.buffer(compact, 64)) + bytes((recovery_id[0],))


def public_key_of(secret: bytes) -> bytes:
    """The compressed (33-byte) public key of a 32-byte secret; ValueError when invalid."""
    b = current
    point = b.ffi.new("secp256k1_pubkey *")
    if len(secret) != 32 or not b.lib.secp256k1_ec_pubkey_create(b.ctx, point, secret):
        raise ValueError("invalid secret key")
    return _serialize(b, point)


def recover(message: bytes, signature: bytes) -> bytes:
    """The compressed public key that made `signature` (64 bytes + recovery id) over
    sha256(message); ValueError when it recovers none."""
    b = current
    if len(signature) != 65 or signature[64] > 3:
        raise ValueError("malformed recoverable signature")
    sig = b.ffi.new("secp256k1_ecdsa_recoverable_signature *")
    if not b.lib.secp256k1_ecdsa_recoverable_signature_parse_compact(
        b.ctx, sig, signature[:64], signature[64]
    ):
        raise ValueError("malformed recoverable signature")
    point = b.ffi.new("secp256k1_pubkey *")
    if not b.lib.secp256k1_ecdsa_recover(b.ctx, point, sig, hashlib.sha256(message).digest()):
        raise ValueError("signature recovers no public key")
    return _serialize(b, point)


def _serialize(b: Binding, point: Any) -> bytes:
    out, size = b.ffi.new("unsigned char [33]"), b.ffi.new("size_t *", 33)
    b.lib.secp256k1_ec_pubkey_serialize(b.ctx, out, size, point, b.lib.SECP256K1_EC_COMPRESSED)
    return bytes(b.ffi.buffer(out, 33))


# ---------------------------------------------------------------- points (Cashu's NUT-00)


def _point(b: Binding, raw: bytes) -> Any:
    point = b.ffi.new("secp256k1_pubkey *")
    if len(raw) not in (33, 65) or not b.lib.secp256k1_ec_pubkey_parse(b.ctx, point, raw, len(raw)):
        raise ValueError("not a point on the curve")
    return point


def point_check(raw: bytes) -> bytes:
    """The point (33 or 65 bytes) in compressed form; ValueError when it is none."""
    b = current
    return _serialize(b, _point(b, raw))


def point_add(first: bytes, second: bytes) -> bytes:
    """The sum of two points, compressed."""
    b = current
    parsed = [_point(b, first), _point(b, second)]  # kept alive: the array only points to them
    points = b.ffi.new("secp256k1_pubkey *[]", parsed)
    total = b.ffi.new("secp256k1_pubkey *")
    if not b.lib.secp256k1_ec_pubkey_combine(b.ctx, total, points, 2):
        raise ValueError("the points add up to infinity")
    return _serialize(b, total)


def point_tweak_add(raw: bytes, scalar: bytes) -> bytes:
    """`P + scalar*G`, compressed."""
    b = current
    point = _point(b, raw)
    if not b.lib.secp256k1_ec_pubkey_tweak_add(b.ctx, point, scalar):
        raise ValueError("invalid tweak")
    return _serialize(b, point)


def point_tweak_mul(raw: bytes, scalar: bytes) -> bytes:
    """`scalar*P`, compressed (libsecp256k1's tweak_mul, as the secp256k1 package's was)."""
    b = current
    point = _point(b, raw)
    if not b.lib.secp256k1_ec_pubkey_tweak_mul(b.ctx, point, scalar):
        raise ValueError("invalid tweak")
    return _serialize(b, point)
