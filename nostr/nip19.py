"""NIP-19: bech32 display forms of keys and ids (npub, nsec, note) and TLV shares.

Our own bech32 (BIP-173, not bech32m) without BIP-173's 90-character cap, which
TLV entities with a few relay hints exceed; NIP-19 suggests 5000 instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .keys import InvalidKey, PrivateKey, is_valid_public_key

MAX_LENGTH = 5000
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {char: index for index, char in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_HEX = frozenset("0123456789abcdef")
_TLV_SPECIAL, _TLV_RELAY, _TLV_AUTHOR, _TLV_KIND = 0, 1, 2, 3


class Nip19Error(ValueError):
    """A string that is not a well-formed NIP-19 entity."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded NIP-19 entity; fields that the `type` does not carry are None/empty.

    npub: pubkey. nsec: secret_key. note: event_id. nprofile: pubkey, relays.
    nevent: event_id, relays, and optionally pubkey (author) and kind.
    naddr: identifier, pubkey, kind, relays.
    """

    type: str
    pubkey: str | None = None
    secret_key: str | None = None
    event_id: str | None = None
    relays: tuple[str, ...] = ()
    kind: int | None = None
    identifier: str | None = None


# --- bech32 -----------------------------------------------------------------


def _polymod(values: Iterable[int]) -> int:
    """The BCH checksum polynomial of BIP-173."""
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GENERATOR[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    """The prefix as it enters the checksum: high bits, a zero, low bits."""
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: Iterable[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    """Regroup bits (8 -> 5 to encode, 5 -> 8 to decode); strict about leftovers."""
    acc = bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & max_value)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & max_value):
        raise Nip19Error("invalid bech32 padding")
    return out


def bech32_encode(hrp: str, payload: bytes) -> str:
    """Encode `payload` under prefix `hrp` (lowercase, checksummed)."""
    data = _convert_bits(payload, 8, 5, pad=True)
    checksum = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    tail = [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + tail)


def bech32_decode(value: str) -> tuple[str, bytes]:
    """Split a bech32 string into (prefix, payload bytes), checking case and checksum."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        raise Nip19Error(f"not a bech32 string of at most {MAX_LENGTH} characters")
    if value.lower() != value and value.upper() != value:
        raise Nip19Error("bech32 string mixes upper and lower case")
    value = value.lower()
    sep = value.rfind("1")
    if sep < 1 or sep + 7 > len(value):
        raise Nip19Error("bech32 string has no prefix or is too short")
    hrp = value[:sep]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise Nip19Error("bech32 prefix has invalid characters")
    try:
        data = [_VALUES[c] for c in value[sep + 1 :]]
    except KeyError:
        raise Nip19Error("bech32 string has a character outside the alphabet") from None
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise Nip19Error("bech32 checksum is wrong")
    return hrp, bytes(_convert_bits(data[:-6], 5, 8, pad=False))


# --- encoding ---------------------------------------------------------------


def _hex_bytes(value: str, what: str) -> bytes:
    """32 bytes from 64 hex characters (either case), or Nip19Error naming `what`."""
    if not isinstance(value, str) or len(value) != 64:
        raise Nip19Error(f"{what} must be 64 hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Nip19Error(f"{what} is not hex") from None


def npub_encode(pubkey_hex: str) -> str:
    """Public key hex -> npub1..."""
    return bech32_encode("npub", _hex_bytes(pubkey_hex, "public key"))


def nsec_encode(secret_hex: str) -> str:
    """Secret key hex -> nsec1..."""
    return bech32_encode("nsec", _hex_bytes(secret_hex, "secret key"))


def note_encode(event_id_hex: str) -> str:
    """Event id hex -> note1..."""
    return bech32_encode("note", _hex_bytes(event_id_hex, "event id"))


def _tlv(kind: int, value: bytes) -> bytes:
    """One type-length-value record; lengths are a single byte."""
    if len(value) > 255:
        raise Nip19Error(f"TLV value of type {kind} is longer than 255 bytes")
    return bytes((kind, len(value))) + value


def _relays_tlv(relays: Iterable[str]) -> bytes:
    """Relay hints as repeated type-1 records."""
    return b"".join(_tlv(_TLV_RELAY, relay.encode()) for relay in relays)


def _kind_bytes(kind: int) -> bytes:
    """A kind as the big-endian u32 NIP-19 stores."""
    if not isinstance(kind, int) or not 0 <= kind <= 0xFFFFFFFF:
        raise Nip19Error("kind must be an unsigned 32-bit integer")
    return kind.to_bytes(4, "big")


def nprofile_encode(pubkey: str, relays: Iterable[str] = ()) -> str:
    """A profile with relay hints -> nprofile1..."""
    payload = _tlv(_TLV_SPECIAL, _hex_bytes(pubkey, "public key")) + _relays_tlv(relays)
    return bech32_encode("nprofile", payload)


def nevent_encode(
    event_id: str, relays: Iterable[str] = (), author: str | None = None, kind: int | None = None
) -> str:
    """An event id with optional relay hints, author and kind -> nevent1..."""
    payload = _tlv(_TLV_SPECIAL, _hex_bytes(event_id, "event id")) + _relays_tlv(relays)
    if author is not None:
        payload += _tlv(_TLV_AUTHOR, _hex_bytes(author, "author"))
    if kind is not None:
        payload += _tlv(_TLV_KIND, _kind_bytes(kind))
    return bech32_encode("nevent", payload)


def naddr_encode(identifier: str, pubkey: str, kind: int, relays: Iterable[str] = ()) -> str:
    """An addressable event coordinate (d tag, author, kind) -> naddr1..."""
    payload = (
        _tlv(_TLV_SPECIAL, identifier.encode())
        + _relays_tlv(relays)
        + _tlv(_TLV_AUTHOR, _hex_bytes(pubkey, "public key"))
        + _tlv(_TLV_KIND, _kind_bytes(kind))
    )
    return bech32_encode("naddr", payload)


# --- decoding ---------------------------------------------------------------


def _parse_tlv(payload: bytes) -> dict[int, list[bytes]]:
    """Group TLV records by type, keeping order; a truncated record is an error."""
    records: dict[int, list[bytes]] = {}
    i = 0
    while i < len(payload):
        if i + 2 > len(payload) or i + 2 + payload[i + 1] > len(payload):
            raise Nip19Error("TLV record is truncated")
        kind, size = payload[i], payload[i + 1]
        records.setdefault(kind, []).append(payload[i + 2 : i + 2 + size])
        i += 2 + size
    return records


def _one(records: dict[int, list[bytes]], kind: int, size: int | None, what: str) -> bytes:
    """The first record of `kind`, required, with an exact size when given."""
    values = records.get(kind)
    if not values:
        raise Nip19Error(f"missing {what}")
    if size is not None and len(values[0]) != size:
        raise Nip19Error(f"{what} must be {size} bytes")
    return values[0]


def _optional(records: dict[int, list[bytes]], kind: int, size: int, what: str) -> bytes | None:
    """The first record of `kind` when present, with an exact size."""
    return _one(records, kind, size, what) if records.get(kind) else None


def _relays(records: dict[int, list[bytes]]) -> tuple[str, ...]:
    """All relay hints, in order."""
    try:
        return tuple(value.decode() for value in records.get(_TLV_RELAY, ()))
    except UnicodeDecodeError:
        raise Nip19Error("relay hint is not UTF-8") from None


def _decode_tlv(hrp: str, payload: bytes) -> Decoded:
    """nprofile, nevent and naddr; unknown record types are ignored as NIP-19 asks."""
    records = _parse_tlv(payload)
    relays = _relays(records)
    if hrp == "nprofile":
        profile = _one(records, _TLV_SPECIAL, 32, "public key").hex()
        return Decoded("nprofile", pubkey=profile, relays=relays)
    author = _optional(records, _TLV_AUTHOR, 32, "author")
    kind_raw = _optional(records, _TLV_KIND, 4, "kind")
    kind = int.from_bytes(kind_raw, "big") if kind_raw is not None else None
    if hrp == "nevent":
        event_id = _one(records, _TLV_SPECIAL, 32, "event id").hex()
        pubkey = author.hex() if author is not None else None
        return Decoded("nevent", pubkey=pubkey, event_id=event_id, relays=relays, kind=kind)
    if author is None or kind is None:
        raise Nip19Error("naddr needs an author and a kind")
    try:
        identifier = _one(records, _TLV_SPECIAL, None, "identifier").decode()
    except UnicodeDecodeError:
        raise Nip19Error("naddr identifier is not UTF-8") from None
    return Decoded("naddr", pubkey=author.hex(), relays=relays, kind=kind, identifier=identifier)


def decode(value: str) -> Decoded:
    """Decode any supported NIP-19 string; `Nip19Error` says what is wrong."""
    hrp, payload = bech32_decode(value.strip() if isinstance(value, str) else value)
    if hrp in ("npub", "nsec", "note"):
        if len(payload) != 32:
            raise Nip19Error(f"{hrp} must carry 32 bytes, not {len(payload)}")
        text = payload.hex()
        if hrp == "npub":
            return Decoded(hrp, pubkey=text)
        if hrp == "nsec":
            return Decoded(hrp, secret_key=text)
        return Decoded(hrp, event_id=text)
    if hrp in ("nprofile", "nevent", "naddr"):
        return _decode_tlv(hrp, payload)
    raise Nip19Error(f"unsupported NIP-19 prefix {hrp!r}")


def normalize_public_key(value: str) -> str:
    """npub or 64-hex -> lowercase hex of a point on the curve; `InvalidKey` otherwise."""
    if not isinstance(value, str):
        raise InvalidKey("public key must be a string (npub or 64 hex characters)")
    text = value.strip()
    if text[:5].lower() == "npub1":
        try:
            text = decode(text).pubkey or ""
        except Nip19Error as error:
            raise InvalidKey(f"invalid npub: {error}") from None
    elif len(text) != 64 or not _HEX.issuperset(text.lower()):
        raise InvalidKey("public key must be an npub or 64 hex characters")
    text = text.lower()
    if not is_valid_public_key(text):
        raise InvalidKey("public key is not a point on the secp256k1 curve")
    return text


def parse_private_key(value: str) -> PrivateKey:
    """nsec or 64-hex -> PrivateKey; `InvalidKey` with a reason otherwise."""
    if not isinstance(value, str):
        raise InvalidKey("private key must be a string (nsec or 64 hex characters)")
    text = value.strip()
    if text[:5].lower() == "nsec1":
        try:
            text = decode(text).secret_key or ""
        except Nip19Error as error:
            raise InvalidKey(f"invalid nsec: {error}") from None
    return PrivateKey.from_hex(text)


def public_key_hex(value: str) -> str:
    """Fast path for hot code: lowercase 64-hex passes as is, anything else is normalised."""
    if len(value) == 64 and _HEX.issuperset(value):
        return value
    return normalize_public_key(value)
