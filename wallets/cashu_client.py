"""The few calls of a Cashu mint that taking ecash needs, over HTTP (NUT-01..09).

Keysets and keys (NUT-01, NUT-02: which proofs are the mint's, what its input
fee is), swap (NUT-03: the buyer's proofs for new ones only we can spend),
check state (NUT-07: spent or not, before anything is claimed), restore
(NUT-09: the mint's signatures for outputs it already signed, when a swap's
answer was lost), melt (NUT-05: pay a Lightning invoice with proofs). A
mint's refusal (a 400 with `detail`) is `MintRefused` with its words; a mint
that cannot be reached or answers 5xx is `MintUnavailable` (try again later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .cashu_nut00 import blind, hex_of, new_blinding, point, unblind
from .cashu_token import Proof

TIMEOUT = 20.0
SPENT_CODE = 11001  # NUT-00 error code: "token already spent"


class MintUnavailable(RuntimeError):
    """The mint could not be asked (network, timeout, 5xx): nothing is known; retry later."""


class MintRefused(ValueError):
    """The mint said no; `spent` when it says the proofs were spent already."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code

    @property
    def spent(self) -> bool:
        return self.code == SPENT_CODE or "spent" in self.detail.lower()


@dataclass(frozen=True)
class Keyset:
    id: str
    unit: str
    active: bool
    input_fee_ppk: int = 0


@dataclass(frozen=True)
class Output:
    """One blinded output we asked the mint to sign: enough to rebuild the proof later."""

    amount: int
    keyset_id: str
    secret: str
    r: int

    def blinded(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "id": self.keyset_id,
            "B_": hex_of(blind(self.secret.encode(), self.r)),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "id": self.keyset_id,
            "secret": self.secret,
            "r": hex(self.r),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Output:
        return cls(int(raw["amount"]), str(raw["id"]), str(raw["secret"]), int(str(raw["r"]), 16))


def split_amount(amount: int) -> list[int]:
    """Powers of two adding up to `amount` (the denominations a mint signs)."""
    return [1 << bit for bit in range(amount.bit_length()) if amount >> bit & 1]


def new_outputs(amount: int, keyset_id: str) -> list[Output]:
    outputs = []
    for value in split_amount(amount):
        secret, r = new_blinding()
        outputs.append(Output(value, keyset_id, secret, r))
    return outputs


def input_fee(proofs: list[Proof], keysets: dict[str, Keyset]) -> int:
    """NUT-02: the sum of each input's keyset fee (parts per thousand), rounded up."""
    ppk = sum(keysets[proof.id].input_fee_ppk for proof in proofs)
    return -(-ppk // 1000)


class MintClient:
    """One mint at `url`; `transport` lets a test route the calls elsewhere."""

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._transport = transport

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self._transport) as client:
                response = await client.request(method, self.url + path, json=body)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise MintUnavailable(f"mint {self.url} cannot be reached: {error!r}") from None
        if response.status_code >= 500:
            raise MintUnavailable(f"mint {self.url} answered {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise MintUnavailable(f"mint {self.url} answered something that is not JSON") from None
        if response.status_code >= 400:
            detail = data.get("detail") if isinstance(data, dict) else None
            code = data.get("code") if isinstance(data, dict) else None
            raise MintRefused(
                str(detail or f"HTTP {response.status_code}"),
                code if isinstance(code, int) else None,
            )
        return data

    async def keysets(self) -> dict[str, Keyset]:
        data = await self._call("GET", "/v1/keysets")
        return {
            str(k["id"]): Keyset(
                str(k["id"]), str(k.get("unit", "sat")), bool(k.get("active", True)),
                int(k.get("input_fee_ppk") or 0),
            )
            for k in data.get("keysets", [])
        }  # fmt: skip

    async def keys(self, keyset_id: str) -> dict[int, str]:
        data = await self._call("GET", f"/v1/keys/{keyset_id}")
        found = next((k for k in data.get("keysets", []) if k.get("id") == keyset_id), None)
        if found is None:
            raise MintRefused(f"the mint has no keyset {keyset_id}")
        return {int(amount): str(key) for amount, key in found["keys"].items()}

    async def check_state(self, ys: list[str]) -> dict[str, str]:
        """Y -> UNSPENT, PENDING or SPENT."""
        data = await self._call("POST", "/v1/checkstate", {"Ys": ys})
        return {str(s["Y"]): str(s["state"]) for s in data.get("states", [])}

    async def swap(self, inputs: list[Proof], outputs: list[Output]) -> list[dict[str, Any]]:
        body = {"inputs": [p.as_json() for p in inputs], "outputs": [o.blinded() for o in outputs]}
        return list((await self._call("POST", "/v1/swap", body)).get("signatures", []))

    async def restore(self, outputs: list[Output]) -> list[dict[str, Any]]:
        """The signatures the mint gave to any of `outputs` before (NUT-09), in order."""
        data = await self._call("POST", "/v1/restore", {"outputs": [o.blinded() for o in outputs]})
        signed = {
            str(o["B_"]): s
            for o, s in zip(data.get("outputs", []), data.get("signatures", []), strict=False)
        }
        return [signed[o.blinded()["B_"]] for o in outputs if o.blinded()["B_"] in signed]

    async def melt_quote(self, bolt11: str) -> dict[str, Any]:
        return dict(
            await self._call("POST", "/v1/melt/quote/bolt11", {"request": bolt11, "unit": "sat"})
        )

    async def melt(
        self,
        quote_id: str,
        inputs: list[Proof],
        change: list[Output] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Pay the quote's invoice; `change` are blank outputs (NUT-08) for the fee returned."""
        body: dict[str, Any] = {"quote": quote_id, "inputs": [p.as_json() for p in inputs]}
        if change:
            body["outputs"] = [o.blinded() for o in change]
        return dict(await self._call("POST", "/v1/melt/bolt11", body))

    async def proofs_from(
        self, outputs: list[Output], signatures: list[dict[str, Any]]
    ) -> list[Proof]:
        """Unblind the mint's signatures into proofs (each checked against the mint's key)."""
        if len(signatures) != len(outputs):
            raise MintRefused("the mint signed a different number of outputs")
        keys: dict[str, dict[int, str]] = {}
        proofs = []
        for output, signature in zip(outputs, signatures, strict=True):
            if output.keyset_id not in keys:
                keys[output.keyset_id] = await self.keys(output.keyset_id)
            mint_key = point(keys[output.keyset_id][output.amount])
            c = unblind(point(str(signature["C_"])), output.r, mint_key)
            proofs.append(Proof(output.amount, output.keyset_id, output.secret, hex_of(c)))
        return proofs
