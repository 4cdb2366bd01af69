"""The libsecp256k1 seam: both bindings give the same bytes, and either one alone works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nostrbazaar.nostr import secp
from nostrbazaar.nostr.keys import PrivateKey

ROOT = Path(__file__).resolve().parents[3]
SECRET = bytes.fromhex("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")
PEER = PrivateKey.from_hex("c90fdaa22168c234c4e6686c0dc0fe7e0fd3bfd9b09e9f05ab6a0c4c00b5d2b4")


def _on(binding: str) -> tuple[str, bytes, bytes, bytes, bytes]:
    """Public key, BIP-340 signature (fixed aux), ECDH x and a BOLT11-style ECDSA, on one."""
    secp.use(binding)
    key = PrivateKey.from_bytes(SECRET)
    ecdsa = secp.EcdsaKey(SECRET)
    return (
        key.public_key,
        key.sign(b"\x01" * 32, aux_rand=b"\x02" * 32),
        key.ecdh_x(PEER.public_key, cache=False),
        ecdsa.sign_recoverable(b"an invoice"),
        ecdsa.public_key,
    )


def test_both_bindings_give_the_same_keys_signatures_and_shared_secrets(
    libsecp_binding: str,
) -> None:
    assert _on("secp256k1") == _on("coincurve")


def test_a_recoverable_signature_recovers_its_key_and_a_damaged_one_does_not(
    libsecp_binding: str,
) -> None:
    key = secp.EcdsaKey()
    signature = key.sign_recoverable(b"message")
    assert secp.recover(b"message", signature) == key.public_key
    assert secp.recover(b"another message", signature) != key.public_key
    with pytest.raises(ValueError, match="malformed"):
        secp.recover(b"message", signature[:64] + b"\x07")


def test_ecdh_is_libsecp256k1s_constant_time_ecdh_with_x_unhashed(libsecp_binding: str) -> None:
    """The x coordinate itself (what NIP-04/NIP-44 use), not coincurve's sha256 of the point."""
    shared = PrivateKey.from_bytes(SECRET).ecdh_x(PEER.public_key, cache=False)
    if libsecp_binding == "coincurve":
        import coincurve

        hashed = coincurve.PrivateKey(SECRET).ecdh(bytes.fromhex("02" + PEER.public_key))
        assert shared != hashed
    assert shared == PEER.ecdh_x(PrivateKey.from_bytes(SECRET).public_key, cache=False)


def test_a_key_made_on_one_binding_signs_on_the_other(libsecp_binding: str) -> None:
    other = "coincurve" if libsecp_binding == "secp256k1" else "secp256k1"
    key = PrivateKey.from_bytes(SECRET)
    first = key.sign(b"\x03" * 32, aux_rand=b"\x04" * 32)
    secp.use(other)
    assert key.sign(b"\x03" * 32, aux_rand=b"\x04" * 32) == first


def test_without_the_secp256k1_package_coincurve_is_used() -> None:
    """As inside LNbits: `secp256k1` cannot be imported, and everything still works."""
    script = (
        "import sys; sys.modules['secp256k1'] = None\n"
        "from nostrbazaar.nostr import secp\n"
        "from nostrbazaar.nostr.keys import PrivateKey, verify_signature\n"
        "key = PrivateKey.generate(); sig = key.sign(b'x' * 32)\n"
        "assert verify_signature(bytes.fromhex(key.public_key), b'x' * 32, sig)\n"
        "print(secp.current.name)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ""},
        cwd=ROOT,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "coincurve"
