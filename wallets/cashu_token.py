"""Cashu tokens as text: V3 (`cashuA` + base64url JSON) and V4 (`cashuB` + base64url CBOR).

NUT-00 defines both; Shopstr (cashu-ts) sends V4, older wallets V3. A token
here is one mint's proofs in one unit; a V3 token naming several mints is
refused (no client we read sends one). The CBOR is the small subset V4 uses
(maps, arrays, text, bytes, integers, booleans, null), written here so the
codec needs no other package; the NUT-00 vectors hold it
(tests/unit/wallets/test_cashu_token.py).
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any


class TokenError(ValueError):
    """Text that is not a Cashu token we can read; the message says why."""


@dataclass(frozen=True)
class Proof:
    amount: int
    id: str
    secret: str
    C: str

    def as_json(self) -> dict[str, Any]:
        return {"amount": self.amount, "id": self.id, "secret": self.secret, "C": self.C}


@dataclass(frozen=True)
class Token:
    mint: str
    proofs: tuple[Proof, ...]
    unit: str = "sat"
    memo: str | None = None

    @property
    def amount(self) -> int:
        return sum(proof.amount for proof in self.proofs)


def decode(text: str) -> Token:
    """Read a `cashuA` or `cashuB` token (a `cashu:` URI prefix is allowed)."""
    text = text.strip().removeprefix("cashu:")
    if text.startswith("cashuA"):
        return _v3(json.loads(_b64(text[6:])))
    if text.startswith("cashuB"):
        return _v4(cbor_decode(_b64(text[6:])))
    raise TokenError("not a Cashu token (it must start with cashuA or cashuB)")


def encode_v4(token: Token) -> str:
    """A `cashuB` token for these proofs (grouped by keyset, as NUT-00 writes them)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for proof in token.proofs:
        groups.setdefault(proof.id, []).append(
            {"a": proof.amount, "s": proof.secret, "c": bytes.fromhex(proof.C)}
        )
    body: dict[str, Any] = {
        "t": [{"i": bytes.fromhex(kid), "p": proofs} for kid, proofs in groups.items()]
    }
    if token.memo:
        body["d"] = token.memo
    body.update(m=token.mint, u=token.unit)
    raw = base64.urlsafe_b64encode(cbor_encode(body)).decode().rstrip("=")
    return "cashuB" + raw


def _b64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except ValueError as error:
        raise TokenError(f"the token is not base64 ({error})") from None


def _proof(raw: dict[str, Any], keyset: str) -> Proof:
    amount, secret, c = (
        raw.get("amount", raw.get("a")),
        raw.get("secret", raw.get("s")),
        raw.get("C", raw.get("c")),
    )
    if isinstance(c, bytes):
        c = c.hex()
    if (
        not isinstance(amount, int)
        or amount <= 0
        or not isinstance(secret, str)
        or not isinstance(c, str)
    ):
        raise TokenError("a proof of the token is malformed")
    return Proof(amount, keyset, secret, c)


def _v3(data: Any) -> Token:
    if not isinstance(data, dict) or not isinstance(data.get("token"), list) or not data["token"]:
        raise TokenError("a V3 token must hold a list of mints and proofs")
    mints = {entry.get("mint") for entry in data["token"] if isinstance(entry, dict)}
    if len(mints) != 1:
        raise TokenError("a token must hold proofs of exactly one mint")
    proofs = tuple(
        _proof(p, str(p.get("id", "")))
        for entry in data["token"] for p in entry.get("proofs", []) if isinstance(p, dict)
    )  # fmt: skip
    return _token(str(mints.pop()), proofs, data.get("unit"), data.get("memo"))


def _v4(data: Any) -> Token:
    if not isinstance(data, dict) or not isinstance(data.get("t"), list):
        raise TokenError("a V4 token must hold a mint and proofs")
    proofs: list[Proof] = []
    for group in data["t"]:
        keyset = group.get("i") if isinstance(group, dict) else None
        if not isinstance(keyset, bytes):
            raise TokenError("a V4 token's keyset id must be bytes")
        proofs += [_proof(p, keyset.hex()) for p in group.get("p", []) if isinstance(p, dict)]
    return _token(str(data.get("m", "")), tuple(proofs), data.get("u"), data.get("d"))


def _token(mint: str, proofs: tuple[Proof, ...], unit: object, memo: object) -> Token:
    if not mint.startswith(("http://", "https://")):
        raise TokenError("the token names no mint URL")
    if not proofs:
        raise TokenError("the token holds no proofs")
    return Token(
        mint.rstrip("/"), proofs, str(unit or "sat"), memo if isinstance(memo, str) else None
    )


# -- the CBOR subset --------------------------------------------------------------------------


def cbor_encode(value: Any) -> bytes:
    if value is None or isinstance(value, bool):
        return bytes([0xF6 if value is None else 0xF5 if value else 0xF4])
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(
            cbor_encode(k) + cbor_encode(v) for k, v in value.items()
        )
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def _head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for extra, size, fmt in ((24, 1, ">B"), (25, 2, ">H"), (26, 4, ">I"), (27, 8, ">Q")):
        if length < 1 << (8 * size):
            return bytes([major << 5 | extra]) + struct.pack(fmt, length)
    raise ValueError("CBOR length too large")


def cbor_decode(data: bytes) -> Any:
    value, end = _item(data, 0, 0)
    if end != len(data):
        raise TokenError("trailing bytes after the token")
    return value


def _item(data: bytes, at: int, depth: int) -> tuple[Any, int]:
    if depth > 16 or at >= len(data):
        raise TokenError("the token's CBOR is truncated or too deep")
    major, info = data[at] >> 5, data[at] & 0x1F
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info not in simple:
            raise TokenError("unsupported CBOR value in the token")
        return simple[info], at + 1
    length, at = _length(data, at, info)
    if major in (0, 1):
        return (length if major == 0 else -1 - length), at
    if major in (2, 3):
        raw = data[at : at + length]
        if len(raw) != length:
            raise TokenError("the token's CBOR is truncated")
        return (raw if major == 2 else raw.decode()), at + length
    return _container(data, at, major, length, depth)


def _container(data: bytes, at: int, major: int, length: int, depth: int) -> tuple[Any, int]:
    if major == 4:
        items = []
        for _ in range(length):
            item, at = _item(data, at, depth + 1)
            items.append(item)
        return items, at
    if major == 5:
        mapping = {}
        for _ in range(length):
            key, at = _item(data, at, depth + 1)
            mapping[key], at = _item(data, at, depth + 1)
        return mapping, at
    raise TokenError("unsupported CBOR type in the token")


def _length(data: bytes, at: int, info: int) -> tuple[int, int]:
    if info < 24:
        return info, at + 1
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise TokenError("indefinite or reserved CBOR lengths are not read")
    size = sizes[info]
    raw = data[at + 1 : at + 1 + size]
    if len(raw) != size:
        raise TokenError("the token's CBOR is truncated")
    return int.from_bytes(raw, "big"), at + 1 + size
