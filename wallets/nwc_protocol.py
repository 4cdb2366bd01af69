"""NIP-47 pieces that are not I/O: the connection URI, encryption choice, state mapping."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

from ..nostr import nip04, nip44
from ..nostr.keys import InvalidKey, PrivateKey, is_valid_public_key
from .base import InvoiceState, InvoiceStatus, Settlement, WalletError

INFO_KIND = 13194
REQUEST_KIND = 23194
RESPONSE_KIND = 23195
NOTIFICATION_NIP04_KIND = 23196
NOTIFICATION_KIND = 23197
Scheme = Literal["nip44_v2", "nip04"]
_STATES = {
    "settled": InvoiceState.SETTLED,
    "expired": InvoiceState.EXPIRED,
    "failed": InvoiceState.CANCELLED,
    "pending": InvoiceState.PENDING,
    "accepted": InvoiceState.PENDING,
}


@dataclass(frozen=True)
class NWCConnection:
    """What a `nostr+walletconnect://` URI holds; `secret` is the client's key."""

    wallet_pubkey: str
    relays: tuple[str, ...]
    secret: PrivateKey
    lud16: str | None = None


def parse_uri(uri: str) -> NWCConnection:
    """Parse and check a connection URI; WalletError names NOSTRBAZAAR_NWC_URI on any fault."""
    parsed = urlparse(uri.strip())
    if parsed.scheme != "nostr+walletconnect":
        raise _uri_error("must start with nostr+walletconnect://")
    pubkey = (parsed.netloc or parsed.path.lstrip("/")).lower()
    if not is_valid_public_key(pubkey):
        raise _uri_error("the wallet service public key is not 64 hex characters on the curve")
    query = parse_qs(parsed.query)
    relays = tuple(dict.fromkeys(unquote(r) for r in query.get("relay", [])))
    if not relays or not all(r.startswith(("ws://", "wss://")) for r in relays):
        raise _uri_error("needs at least one relay=ws(s)://... parameter")
    try:
        secret = PrivateKey.from_hex(query.get("secret", [""])[0])
    except InvalidKey:
        raise _uri_error("secret= must be a 32-byte hex private key") from None
    lud16 = query.get("lud16", [None])[0]
    return NWCConnection(pubkey, relays, secret, lud16)


def _uri_error(problem: str) -> WalletError:
    return WalletError(f"nwc backend: NOSTRBAZAAR_NWC_URI {problem}")


def choose_scheme(info_tags: list[list[str]]) -> Scheme:
    """NIP-44 when the info event offers it; an info event without the tag means NIP-04."""
    for tag in info_tags:
        if len(tag) > 1 and tag[0] == "encryption":
            return "nip44_v2" if "nip44_v2" in tag[1].split() else "nip04"
    return "nip04"


def seal(key: PrivateKey, peer: str, scheme: Scheme, payload: dict[str, Any]) -> str:
    """Encrypt a JSON payload for `peer` with `scheme`."""
    text = json.dumps(payload, separators=(",", ":"))
    if scheme == "nip44_v2":
        return nip44.encrypt(text, nip44.conversation_key(key, peer))
    return nip04.encrypt(key, peer, text)


def unseal(key: PrivateKey, peer: str, content: str) -> dict[str, Any]:
    """Decrypt NIP-04 (`...?iv=...`) or NIP-44 content into a JSON object."""
    try:
        if "?iv=" in content:
            text = nip04.decrypt(key, peer, content)
        else:
            text = nip44.decrypt(content, nip44.conversation_key(key, peer))
        payload = json.loads(text)
    except (ValueError, InvalidKey) as error:
        raise WalletError(f"nwc: cannot read a message from the wallet service: {error}") from error
    if not isinstance(payload, dict):
        raise WalletError("nwc: the wallet service sent a message that is not a JSON object")
    return payload


def status_from_transaction(payment_hash: str, tx: dict[str, Any], now: float) -> InvoiceStatus:
    """Map a `lookup_invoice` result to our states (a pending one past expiry is expired)."""
    state = _STATES.get(str(tx.get("state", "")).lower())
    if state is None:
        state = InvoiceState.SETTLED if tx.get("settled_at") else InvoiceState.PENDING
    expires_at = tx.get("expires_at")
    if state is InvoiceState.PENDING and isinstance(expires_at, int) and now > expires_at:
        state = InvoiceState.EXPIRED
    amount = tx.get("amount")
    settled_at = tx.get("settled_at") if state is InvoiceState.SETTLED else None
    return InvoiceStatus(
        payment_hash,
        state,
        int(amount) if isinstance(amount, int) else None,
        int(settled_at) if isinstance(settled_at, int) else None,
    )


def settlement_from_transaction(tx: dict[str, Any], now: float) -> Settlement | None:
    """A Settlement from a `payment_received` notification or a settled look-up."""
    payment_hash = tx.get("payment_hash")
    amount = tx.get("amount")
    if not isinstance(payment_hash, str) or not isinstance(amount, int):
        return None
    settled_at = tx.get("settled_at")
    metadata = tx.get("metadata")
    return Settlement(
        payment_hash=payment_hash,
        amount_msat=amount,
        settled_at=int(settled_at) if isinstance(settled_at, int) else int(now),
        extra=dict(metadata) if isinstance(metadata, dict) else {},
    )
